#pragma once
// How many threads decode a PBF's blobs in a read given `cores` cores: osmium's own rule (every
// core but two, for the reading thread and the one that takes the objects; at least one),
// applied to the cores the run was given (--threads, or those the process may run on) instead
// of the machine's: osmium's default pool counts every core of the machine, so that a
// 4-core Slurm allocation on a 64-core node would run 32 decoders (osmium's most) beside its workers.
// osmium::thread::Pool caps what it is given at 32 itself, so --threads 256 runs 32.

#include <algorithm>

namespace skyscript::osm {

inline int decoder_threads(int cores) { return std::max(1, cores - 2); }

} // namespace skyscript::osm
