#pragma once
// Helpers for tests that run real programs: our binary, osmium, ogrinfo, python3.

#include <cstdint>
#include <string>
#include <vector>

namespace skyscript::test {

struct CommandResult {
    int exit_code = -1;
    std::string out; // stdout
    std::string err; // stderr
};

// Runs `command` through /bin/sh; stdout and stderr are captured separately.
CommandResult run(const std::string& command);
// Quotes for /bin/sh.
std::string sh_quote(const std::string& s);
// Our binary, the data folder, and a fresh empty scratch folder for one test.
std::string binary();
std::string data(const std::string& relative);
std::string fresh_dir(const std::string& name);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);
std::vector<std::string> lines(const std::string& text);

// The first column of each row of `sql` on a SQLite file, as text.
std::vector<std::string> sql_column(const std::string& db_path, const std::string& sql);
std::int64_t sql_int(const std::string& db_path, const std::string& sql);

} // namespace skyscript::test
