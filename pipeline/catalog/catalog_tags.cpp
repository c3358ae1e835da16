#include "pipeline/catalog/catalog_tags.hpp"


#include <nlohmann/json.hpp>

#include <stdexcept>

namespace skyscript::pipeline {

namespace {

// A JSON string at s[i] (the opening quote), unescaped into `out`; false if it is not the
// simple kind our writer makes (then the caller falls back to a full parser).
bool read_string(std::string_view s, std::size_t& i, std::string& out) {
    if (i >= s.size() || s[i] != '"') return false;
    out.clear();
    for (++i; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '"') {
            ++i;
            return true;
        }
        if (c != '\\') {
            out.push_back(c);
            continue;
        }
        if (++i >= s.size()) return false;
        switch (s[i]) {
            case '"': out.push_back('"'); break;
            case '\\': out.push_back('\\'); break;
            case '/': out.push_back('/'); break;
            default: return false; // \n, \uXXXX, ...: rare, left to the full parser
        }
    }
    return false;
}

} // namespace

void parse_catalog_tags(std::string_view s, std::vector<std::pair<std::string, std::string>>& out) {
    const auto start = out.size();
    std::size_t i = 0;
    std::string key, value;
    bool simple = s.size() >= 2 && s[0] == '{' && s.back() == '}';
    if (simple) {
        i = 1;
        while (i < s.size() - 1) {
            if (!read_string(s, i, key) || i >= s.size() || s[i++] != ':' || !read_string(s, i, value)) {
                simple = false;
                break;
            }
            out.emplace_back(key, value);
            if (s[i] == ',') ++i;
            else if (i != s.size() - 1) {
                simple = false;
                break;
            }
        }
    }
    if (simple) return;
    out.resize(start);
    try {
        const auto j = nlohmann::ordered_json::parse(s); // named: items() refers into it
        for (const auto& [k, v] : j.items()) out.emplace_back(k, v.get<std::string>());
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error("catalog tags are not a JSON object of strings: " + std::string(e.what()));
    }
}

} // namespace skyscript::pipeline
