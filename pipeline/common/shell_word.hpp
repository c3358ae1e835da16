#pragma once
// A command line shown to the user (the resume hint, build.lock's holder, the dataset card's
// build command) is one they may paste into bash: each argument quoted as one word.

#include <string>

namespace skyscript::pipeline {

// `word` as bash reads it back unchanged: as it is when made of safe characters only; in
// '...' otherwise; in $'...' when it holds a control byte (a line break, an ESC), which is
// then written as \xHH, so the command stays one line and no control byte reaches a terminal.
std::string shell_word(const std::string& word);

} // namespace skyscript::pipeline
