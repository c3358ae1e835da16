#pragma once
// A stage's refusal of a value this run gave, found once the stage had looked at its input
// (a --bbox holding no object, a --seed other than the one a catalog was sampled with),
// before it did any work. The run leaves OUT's recorded options as they were (run_recorded):
// recorded, the refused value was taken again by the next run that left the flag out, which
// was refused for a flag it did not give.

#include <stdexcept>

namespace skyscript::pipeline {

class OptionRefused : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace skyscript::pipeline
