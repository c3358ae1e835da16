#pragma once
// One [[source]] table of a sources file, read key by key: every value of the wrong type
// and every failed rule is a SourceConfigError naming the file, the key's line and the
// source ("s.toml:7: source 2 (X): ..."). parse_sources reads the keys every source has;
// each kind reads its own through the same table (source_kind.hpp).

#include "imagery/source_config.hpp"

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <string>

namespace skyscript::imagery {

class SourceTable {
public:
    SourceTable(const toml::table& table, const std::string& origin, int line, std::string label)
        : table_(table), origin_(origin), line_(line), label_(std::move(label)) {}

    const toml::table& table() const noexcept { return table_; }
    const toml::node* get(const char* key) const { return table_.get(key); }
    // "source 2" until the alias is known, then "source 2 (X)".
    void name_alias(const std::string& alias) { label_ += " (" + alias + ")"; }

    // Typed values; nullopt (or "") when the key is absent, an error when its type is wrong.
    std::string string(const char* key, bool required) const;
    std::optional<double> number(const char* key) const;
    std::optional<std::int64_t> integer(const char* key) const;
    std::optional<bool> boolean(const char* key) const;
    const toml::array* array(const char* key, const char* shape) const;

    // Errors about the source (its table's line), about one key or value (its line).
    [[noreturn]] void fail(const std::string& what) const;
    [[noreturn]] void fail_line(const toml::source_region& region, const std::string& what) const;
    [[noreturn]] void fail_at(const toml::node& node, const std::string& what) const { fail_line(node.source(), what); }
    [[noreturn]] void fail_at(const char* key, const std::string& what) const { fail_at(*get(key), what); }

private:
    const toml::table& table_;
    const std::string& origin_;
    int line_;
    std::string label_;
};

} // namespace skyscript::imagery
