#pragma once
// Helpers for tests that run real programs: our binary, osmium, ogrinfo, python3.

#include <cstdint>
#include <functional>
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
// For the bench commands: prints "WHO: WHAT failed (exit N):" and the command's output to
// stderr and exits 1, unless it succeeded.
void exit_unless_ok(const CommandResult& r, const std::string& who, const std::string& what);
// Quotes for /bin/sh.
std::string sh_quote(const std::string& s);
// Where tests write: SKYSCRIPT_SCRATCH (the build folder's tests/scratch), or the folder in the
// environment variable SKYSCRIPT_TEST_SCRATCH when it is set (e.g. one only its owner can enter).
std::string scratch_root();
// Our binary, the data folder, and a fresh empty scratch folder for one test.
std::string binary();
std::string data(const std::string& relative);
std::string fresh_dir(const std::string& name);
// A folder made once for every suite that asks for it: scratch_root()/shared/NAME-KEY, KEY a hash
// of `inputs` (files: their size and change time, so a rebuilt binary or an edited script makes it
// again). The first suite makes it with `make(dir)` under a lock, the others wait and take it; a
// folder of NAME with another KEY is removed. Suites only read it.
std::string shared_dir(const std::string& name, const std::vector<std::string>& inputs, const std::function<void(const std::string&)>& make);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);
std::vector<std::string> lines(const std::string& text);

// Runs `command` with a tmpfs of `size` (e.g. "60M") at `dir`, in a mount namespace of its
// own: the mount and what was written to it end with the command, even when the test is
// killed (the tests run as root, as the build does).
CommandResult on_small_disk(const std::string& dir, const std::string& size, const std::string& command);

// The first column of each row of `sql` on a SQLite file, as text.
std::vector<std::string> sql_column(const std::string& db_path, const std::string& sql);
std::int64_t sql_int(const std::string& db_path, const std::string& sql);
// Rows of `table` in one SQLite file and not in the other's, both ways (SQL EXCEPT, every
// column): 0 when the two hold the same rows. Throws when sqlite3 cannot compare them.
std::int64_t rows_differing(const std::string& db_path, const std::string& other_path, const std::string& table);

// A loopback port nothing listens on now (the kernel's pick), for a server that is told its
// port: bound a moment later, it may lose a race, which its caller retries or reports.
int free_loopback_port();

// A server process the test starts (python3 tests/http_test_server.py ...): it prints
// its port first; it ends when this object closes its stdin, or is killed.
class ServerProcess {
public:
    explicit ServerProcess(const std::vector<std::string>& argv);
    ~ServerProcess();
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;
    int port() const noexcept { return port_; }
    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

private:
    int pid_ = -1, stdin_fd_ = -1, port_ = 0;
};

// A raster read whole as float samples (GDAL): size, geotransform, EPSG code, bands.
struct RasterData {
    int width = 0, height = 0, bands = 0, epsg = 0;
    double gt[6]{};
    std::vector<std::vector<float>> data; // one vector per band
};
RasterData load_raster(const std::string& path);
// Mean absolute difference of the first three bands of two rasters of the same size.
double mean_abs_diff(const std::string& a, const std::string& b);

std::string source_dir();

// `skyscript-build fetch-one` with short network timeouts (ours and GDAL's), so a hung
// server fails a test in seconds instead of stalling CI; options follow.
std::string fetch_one_command();

// An RSA key pair made with the openssl command line (no key is committed): DIR/NAME.pem, DIR/NAME.pub.pem.
struct RsaKey {
    std::string private_pem, public_pem;
};
RsaKey make_rsa_key(const std::string& dir, const std::string& name);
// A Google service-account key file (the GOOGLE_APPLICATION_CREDENTIALS format) for that key; returns `path`.
std::string write_service_account_key(const std::string& path, const std::string& private_pem, const std::string& client_email,
                                      const std::string& token_uri, const std::string& project_id);
// GET over loopback with the curl command line tool-free helper: body of url.
std::string http_get(const std::string& url);

} // namespace skyscript::test
