#include "pipeline/dataset/webdataset_writer.hpp"


#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <stdexcept>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t block = 512;

void put_octal(char* field, std::size_t width, std::uint64_t value) {
    // width-1 octal digits and a NUL, as ustar writers do.
    std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1), static_cast<unsigned long long>(value));
}

} // namespace

std::string tar_member(const std::string& name, std::string_view data) {
    if (name.empty() || name.size() > 100) throw std::runtime_error("tar member name `" + name + "` does not fit ustar's 100 bytes");
    if (data.size() >= (1ULL << 33)) throw std::runtime_error("tar member " + name + " is larger than ustar's 8 GiB");
    char h[block];
    std::memset(h, 0, sizeof h);
    std::memcpy(h, name.data(), name.size());     // name[100]
    put_octal(h + 100, 8, 0644);                  // mode
    put_octal(h + 108, 8, 0);                     // uid
    put_octal(h + 116, 8, 0);                     // gid
    put_octal(h + 124, 12, data.size());          // size
    put_octal(h + 136, 12, 0);                    // mtime
    std::memset(h + 148, ' ', 8);                 // chksum: spaces while summing
    h[156] = '0';                                 // typeflag: regular file
    std::memcpy(h + 257, "ustar", 6);             // magic "ustar\0"
    std::memcpy(h + 263, "00", 2);                // version
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    std::snprintf(h + 148, 8, "%06o", sum);       // six digits, NUL, space
    h[155] = ' ';
    std::string out(h, block);
    out.append(data);
    out.append((block - data.size() % block) % block, '\0');
    return out;
}

WebDatasetWriter::WebDatasetWriter(std::string dir, std::int64_t max_samples, std::int64_t max_bytes)
    : dir_(std::move(dir)), max_samples_(max_samples), max_bytes_(max_bytes) {
    fs::create_directories(dir_);
    remove_partial_files(dir_);
}

WebDatasetWriter::~WebDatasetWriter() = default; // an unfinished shard's temporary file is removed

void WebDatasetWriter::add(const std::string& key, const std::vector<std::pair<std::string, std::string_view>>& members) {
    if (key.empty() || key.find('.') != std::string::npos || key.find('/') != std::string::npos)
        throw std::runtime_error("webdataset key `" + key + "` is empty or has a dot or slash (WebDataset cuts names at the first dot)");
    if (file_ && ((max_samples_ > 0 && shards_.back().samples >= max_samples_) || (max_bytes_ > 0 && shards_.back().bytes >= max_bytes_)))
        close_shard();
    if (!file_) {
        char name[32];
        std::snprintf(name, sizeof name, "%05zu.tar", shards_.size());
        shards_.push_back({name, 0, 0});
        file_ = std::make_unique<AtomicFileWriter>((fs::path(dir_) / name).string());
    }
    std::string bytes;
    for (const auto& [ext, data] : members) bytes += tar_member(key + "." + ext, data);
    file_->append(bytes);
    shards_.back().samples += 1;
    shards_.back().bytes += static_cast<std::int64_t>(bytes.size());
}

void WebDatasetWriter::close_shard() {
    file_->append(std::string(2 * block, '\0'));
    shards_.back().bytes += 2 * block;
    file_->commit();
    file_.reset();
}

void WebDatasetWriter::finish() {
    if (file_) close_shard();
    nlohmann::ordered_json sizes = nlohmann::ordered_json::object(), stats = nlohmann::ordered_json::object();
    std::set<std::string> names;
    for (const auto& s : shards_) {
        sizes[s.name] = s.samples;
        stats[s.name] = {{"samples", s.samples}, {"bytes", s.bytes}};
        names.insert(s.name);
    }
    write_file_atomically((fs::path(dir_) / "sizes.json").string(), sizes.dump(1) + "\n");
    write_file_atomically((fs::path(dir_) / "stats.json").string(), stats.dump(1) + "\n");
    std::error_code ec;
    for (const auto& f : fs::directory_iterator(dir_, ec)) {
        const auto name = f.path().filename().string();
        if (name.ends_with(".tar") && !names.count(name)) fs::remove(f.path(), ec);
    }
}

} // namespace skyscript::pipeline
