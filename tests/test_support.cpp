#include "test_support.hpp"

#include <sqlite3.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include <cmath>
#include <memory>

#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <csignal>
#include <cstdlib>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <functional>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/file.h>

namespace skyscript::test {

std::string sh_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

std::string scratch_root() {
    const char* over = std::getenv("SKYSCRIPT_TEST_SCRATCH");
    return over && *over ? over : SKYSCRIPT_SCRATCH;
}

CommandResult run(const std::string& command) {
    static std::atomic<int> counter{0}; // run() is called from several threads (test_reliability)
    const auto err_path = std::filesystem::path(scratch_root()) / ("stderr-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(scratch_root());
    const std::string full = "(" + command + ") 2>" + sh_quote(err_path.string()) + " </dev/null";
    CommandResult r;
    FILE* pipe = ::popen(full.c_str(), "r");
    if (!pipe) throw std::runtime_error("popen failed: " + command);
    std::array<char, 65536> buf;
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
    const int status = ::pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.err = read_file(err_path.string());
    std::filesystem::remove(err_path);
    return r;
}

void exit_unless_ok(const CommandResult& r, const std::string& who, const std::string& what) {
    if (r.exit_code == 0) return;
    std::fprintf(stderr, "%s: %s failed (exit %d):\n%s%s\n", who.c_str(), what.c_str(), r.exit_code, r.out.c_str(), r.err.c_str());
    std::exit(1);
}

std::string binary() { return SKYSCRIPT_BINARY; }

std::string fetch_one_command() { return "GDAL_HTTP_TIMEOUT=10 GDAL_HTTP_CONNECTTIMEOUT=5 " + sh_quote(binary()) + " fetch-one --timeout 10"; }
std::string data(const std::string& relative) { return std::string(SKYSCRIPT_TEST_DATA) + "/" + relative; }

std::string fresh_dir(const std::string& name) {
    const auto dir = std::filesystem::path(scratch_root()) / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir.string();
}

std::string shared_dir(const std::string& name, const std::vector<std::string>& inputs, const std::function<void(const std::string&)>& make) {
    namespace fs = std::filesystem;
    std::string identity;
    for (const auto& input : inputs) {
        struct stat st {};
        if (::stat(input.c_str(), &st) != 0) throw std::runtime_error("shared_dir: " + input + ": " + std::strerror(errno));
        identity.append(input).append("|").append(std::to_string(st.st_size)).append("|");
        identity.append(std::to_string(st.st_ctim.tv_sec)).append(".").append(std::to_string(st.st_ctim.tv_nsec)).append("\n");
    }
    char key[17];
    std::snprintf(key, sizeof key, "%016zx", std::hash<std::string>{}(identity));
    const auto root = fs::path(scratch_root()) / "shared";
    fs::create_directories(root);
    const auto dir = root / (name + "-" + key);
    const int lock = ::open((root / (name + ".lock")).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
        if (lock >= 0) ::close(lock);
        throw std::runtime_error("shared_dir: cannot lock " + (root / (name + ".lock")).string());
    }
    try {
        if (!fs::exists(dir / ".complete")) {
            for (const auto& e : fs::directory_iterator(root))
                if (e.is_directory() && e.path().filename().string().starts_with(name + "-")) fs::remove_all(e.path());
            fs::create_directories(dir);
            make(dir.string());
            write_file((dir / ".complete").string(), identity);
        }
    } catch (...) {
        ::close(lock);
        throw;
    }
    ::close(lock); // releases the flock
    return dir.string();
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> result;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) result.push_back(line);
    return result;
}

CommandResult on_small_disk(const std::string& dir, const std::string& size, const std::string& command) {
    std::filesystem::create_directories(dir);
    return run("unshare -m sh -c " + sh_quote("mount -t tmpfs -o size=" + size + " tmpfs " + sh_quote(dir) + " && " + command));
}

namespace {

// The first column of `sql`'s rows; nullopt when the file has a hot rollback journal (a plan
// killed while it wrote its jobs) that a read-only connection cannot apply.
std::optional<std::vector<std::string>> try_sql_column(const std::string& db_path, const std::string& sql, int flags) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(db_path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        throw std::runtime_error(db_path + ": cannot open");
    }
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
        std::string msg = sqlite3_errmsg(db);
        const bool hot_journal = sqlite3_extended_errcode(db) == SQLITE_READONLY_ROLLBACK;
        sqlite3_close(db);
        if (hot_journal) return std::nullopt;
        throw std::runtime_error(db_path + ": " + msg + " in " + sql);
    }
    std::vector<std::string> rows;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        const auto* t = sqlite3_column_text(stmt, 0);
        rows.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return rows;
}

} // namespace

std::vector<std::string> sql_column(const std::string& db_path, const std::string& sql) {
    if (auto rows = try_sql_column(db_path, sql, SQLITE_OPEN_READONLY)) return std::move(*rows);
    // A hot journal: read a copy of the file and its journal, which SQLite rolls back as it opens
    // it (the test's own file stays as the kill left it, for the rerun to roll back).
    namespace fs = std::filesystem;
    const auto dir = fs::path(scratch_root()) / ("rolled-back-copy-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const auto copy = (dir / "copy.sqlite").string();
    fs::copy_file(db_path, copy);
    fs::copy_file(db_path + "-journal", copy + "-journal");
    auto rows = try_sql_column(copy, sql, SQLITE_OPEN_READWRITE);
    fs::remove_all(dir);
    if (!rows) throw std::runtime_error(db_path + ": its rollback journal could not be applied to a copy");
    return std::move(*rows);
}

std::int64_t sql_int(const std::string& db_path, const std::string& sql) {
    const auto rows = sql_column(db_path, sql);
    if (rows.empty()) throw std::runtime_error(db_path + ": no row for " + sql);
    return std::stoll(rows[0]);
}

std::int64_t rows_differing(const std::string& db_path, const std::string& other_path, const std::string& table) {
    std::string quoted = "'"; // the other file's path as an SQL string
    for (char c : other_path) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    quoted += "'";
    const std::string in_main_only = "SELECT count(*) FROM (SELECT * FROM main." + table + " EXCEPT SELECT * FROM other." + table + ")";
    const std::string in_other_only = "SELECT count(*) FROM (SELECT * FROM other." + table + " EXCEPT SELECT * FROM main." + table + ")";
    // sqlite3's own shell: one connection for ATTACH and the query.
    const auto r = run("sqlite3 " + sh_quote(db_path) + " " + sh_quote("ATTACH " + quoted + " AS other; SELECT (" + in_main_only + ") + (" + in_other_only + ");"));
    if (r.exit_code != 0 || r.out.empty()) throw std::runtime_error(db_path + " against " + other_path + ": cannot compare " + table + ": " + r.err);
    return std::stoll(r.out);
}

ServerProcess::ServerProcess(const std::vector<std::string>& argv) {
    int in_pipe[2], out_pipe[2];
    if (::pipe(in_pipe) != 0 || ::pipe(out_pipe) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        ::dup2(in_pipe[0], 0);
        ::dup2(out_pipe[1], 1);
        ::close(in_pipe[1]);
        ::close(out_pipe[0]);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    stdin_fd_ = in_pipe[1];
    std::string line;
    char c;
    while (::read(out_pipe[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out_pipe[0]);
    if (line.empty()) throw std::runtime_error("server did not start: " + argv[0]);
    port_ = std::stoi(line);
}

ServerProcess::~ServerProcess() {
    if (stdin_fd_ >= 0) ::close(stdin_fd_);
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        int status;
        ::waitpid(pid_, &status, 0);
    }
}

int free_loopback_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    if (fd >= 0) ::close(fd);
    if (!ok) throw std::runtime_error("no free loopback port");
    return ntohs(a.sin_port);
}

std::string source_dir() { return SKYSCRIPT_SOURCE_DIR; }

RasterData load_raster(const std::string& path) {
    GDALAllRegister();
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER));
    if (!ds) throw std::runtime_error(path + ": cannot open");
    RasterData r;
    r.width = ds->GetRasterXSize();
    r.height = ds->GetRasterYSize();
    r.bands = ds->GetRasterCount();
    ds->GetGeoTransform(r.gt);
    if (const auto* srs = ds->GetSpatialRef(); srs && srs->GetAuthorityCode(nullptr)) r.epsg = std::atoi(srs->GetAuthorityCode(nullptr));
    for (int b = 1; b <= r.bands; ++b) {
        auto& v = r.data.emplace_back(static_cast<std::size_t>(r.width) * r.height);
        if (ds->GetRasterBand(b)->RasterIO(GF_Read, 0, 0, r.width, r.height, v.data(), r.width, r.height, GDT_Float32, 0, 0) != CE_None)
            throw std::runtime_error(path + ": read failed");
    }
    return r;
}

double mean_abs_diff(const std::string& a, const std::string& b) {
    const auto ra = load_raster(a), rb = load_raster(b);
    if (ra.width != rb.width || ra.height != rb.height || ra.bands < 3 || rb.bands < 3) throw std::runtime_error("rasters differ in size");
    double d = 0;
    for (int c = 0; c < 3; ++c)
        for (std::size_t i = 0; i < ra.data[c].size(); ++i) d += std::abs(ra.data[c][i] - rb.data[c][i]);
    return d / (3.0 * double(ra.data[0].size()));
}

std::string http_get(const std::string& url) {
    const auto r = run("python3 -c " + sh_quote("import sys,urllib.request;sys.stdout.write(urllib.request.urlopen(sys.argv[1],timeout=10).read().decode())") + " " + sh_quote(url));
    return r.out;
}

RsaKey make_rsa_key(const std::string& dir, const std::string& name) {
    RsaKey k{dir + "/" + name + ".pem", dir + "/" + name + ".pub.pem"};
    if (run("openssl genrsa -out " + sh_quote(k.private_pem) + " 2048").exit_code != 0 ||
        run("openssl rsa -in " + sh_quote(k.private_pem) + " -pubout -out " + sh_quote(k.public_pem)).exit_code != 0)
        throw std::runtime_error("openssl could not make a key in " + dir);
    return k;
}

std::string write_service_account_key(const std::string& path, const std::string& private_pem, const std::string& client_email,
                                      const std::string& token_uri, const std::string& project_id) {
    auto escape = [](const std::string& s) {
        std::string out;
        for (char c : s) out += c == '\n' ? std::string("\\n") : c == '"' ? std::string("\\\"") : std::string(1, c);
        return out;
    };
    write_file(path, "{\"type\": \"service_account\", \"project_id\": \"" + project_id + "\", \"private_key_id\": \"0123\", "
                     "\"private_key\": \"" + escape(read_file(private_pem)) + "\", \"client_email\": \"" + client_email +
                     "\", \"token_uri\": \"" + token_uri + "\"}\n");
    return path;
}

} // namespace skyscript::test
