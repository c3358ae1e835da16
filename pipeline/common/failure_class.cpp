#include "pipeline/common/failure_class.hpp"

#include <cctype>

namespace skyscript::pipeline {

namespace {

bool digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool scheme_char(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

} // namespace

std::string failure_class(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        // A URL: letters, "://", then up to the next space; the : , ; . ) that end it are text.
        if (scheme_char(s[i])) { // the start of a run of letters: runs are taken whole
            std::size_t j = i;
            while (j < s.size() && scheme_char(s[j])) ++j;
            if (s.substr(j, 3) == "://") {
                std::size_t end = j + 3;
                while (end < s.size() && !space(s[end])) ++end;
                while (end > j + 3 && std::string_view(":,;.)").find(s[end - 1]) != std::string_view::npos) --end;
                out += "URL";
                i = end;
                continue;
            }
            out.append(s.substr(i, j - i));
            i = j;
            continue;
        }
        // A decimal number: digits '.' digits.
        if (digit(s[i])) {
            std::size_t j = i;
            while (j < s.size() && digit(s[j])) ++j;
            if (j + 1 < s.size() && s[j] == '.' && digit(s[j + 1])) {
                j += 1;
                while (j < s.size() && digit(s[j])) ++j;
                out += "N";
            } else {
                out.append(s.substr(i, j - i));
            }
            i = j;
            continue;
        }
        out += s[i++];
    }
    return out;
}

} // namespace skyscript::pipeline
