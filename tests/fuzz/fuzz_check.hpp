#pragma once
// FUZZ_CHECK: an invariant of a fuzz target. A broken one prints what and aborts, which
// libFuzzer reports as a crash (with the input saved) and the replay ctest as a failure.

#include <cstdio>
#include <cstdlib>
#include <string>

#define FUZZ_CHECK(cond, what)                                                                   \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            std::fprintf(stderr, "%s:%d: invariant broken: %s: %s\n", __FILE__, __LINE__, #cond, \
                         std::string(what).c_str());                                             \
            std::abort();                                                                        \
        }                                                                                        \
    } while (0)
