#include "pipeline/split/score_file.hpp"

#include "imagery/one_line_text.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/split/split_options.hpp"
#include "pipeline/state/state_db.hpp"
#include "tag_filters/utf8_text.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <tuple>
#include <vector>

namespace skyscript::pipeline {

namespace {

// The fields of one CSV line (RFC 4180 quotes; a scores file has no line breaks in fields).
std::vector<std::string> csv_fields(const std::string& line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
            else if (c == '"') quoted = false;
            else out.back() += c;
        } else if (c == '"') quoted = true;
        else if (c == ',') out.emplace_back();
        else out.back() += c;
    }
    return out;
}

std::string trim(const std::string& s) {
    const auto a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

// The lines of a file, each without its '\n', none longer than `max_line` bytes: a line that
// long is no filepath,score row, and std::getline would hold it whole first (a 2 GB file of
// zeros read as one line took 6 GB and a minute before its error).
class BoundedLines {
public:
    BoundedLines(std::istream& in, std::size_t max_line) : in_(in), max_line_(max_line) {}
    // The next line in `line`; false at the end. Throws std::length_error past max_line.
    bool next(std::string& line) {
        line.clear();
        for (;;) {
            if (at_ == end_) {
                in_.read(buffer_, sizeof buffer_);
                at_ = 0, end_ = static_cast<std::size_t>(in_.gcount());
                if (end_ == 0) return !line.empty(); // a last line without its '\n'
            }
            const auto* from = buffer_ + at_;
            const auto* newline = static_cast<const char*>(std::memchr(from, '\n', end_ - at_));
            const std::size_t take = newline ? static_cast<std::size_t>(newline - from) : end_ - at_;
            if (line.size() + take > max_line_) throw std::length_error("a line longer than " + std::to_string(max_line_ >> 10) + " KiB");
            line.append(from, take);
            at_ += take;
            if (newline) {
                ++at_;
                return true;
            }
        }
    }

private:
    std::istream& in_;
    std::size_t max_line_;
    char buffer_[1 << 16];
    std::size_t at_ = 0, end_ = 0;
};

} // namespace

ScoreFile read_score_file(const std::string& spec) {
    ScoreFile f;
    std::tie(f.path, f.name) = scores_file_and_name(spec);
    std::ifstream in(f.path, std::ios::binary);
    if (!in) throw std::runtime_error(f.path + ": cannot open the scores file");
    std::string line;
    BoundedLines lines(in, 64 << 10);
    std::size_t columns = 2; // the header's, where there is one: every row has as many

    for (int line_no = 1;; ++line_no) {
        try {
            if (!lines.next(line)) break;
        } catch (const std::length_error& e) {
            throw std::runtime_error(f.path + ":" + std::to_string(line_no) + ": " + e.what() + ": not a filepath,score row");
        }
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line_no == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3); // the UTF-8 mark Excel and pandas' utf-8-sig write first
        if (trim(line).empty()) continue;
        const auto fields = csv_fields(line);
        const auto where = f.path + ":" + std::to_string(line_no) + ": ";
        if (fields.size() < 2) throw std::runtime_error(where + "expected filepath,score");
        auto path = trim(fields[0]);
        if (line_no == 1 && path == "filepath") {
            columns = fields.size();
            continue;
        }
        // `path,0,95`: a decimal comma would be read as 0 and a third column dropped unseen.
        if (fields.size() != columns)
            throw std::runtime_error(where + std::to_string(fields.size()) + " fields, " + std::to_string(columns) +
                                     (columns == 2 ? " expected (filepath,score); a decimal comma? write 0.95, or quote the field" : " in the header"));
        if (path.starts_with("./")) path = path.substr(2);
        const auto text = trim(fields[1]);
        double v = 0;
        const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (text.empty() || ec != std::errc{} || p != text.data() + text.size() || !std::isfinite(v))
            throw std::runtime_error(where + "score `" + imagery::one_line_text(text, 200) + "` is not a number"); // a NUL would end the message
        if (!f.by_filepath.emplace(path, Score{v, text, false}).second) throw std::runtime_error(where + imagery::one_line_text(path, 200) + " has a score already");
    }
    if (in.bad()) throw std::runtime_error(f.path + ": read error");
    if (f.by_filepath.empty()) throw std::runtime_error(f.path + ": no filepath,score rows");
    return f;
}

std::vector<const Score*> scores_of_written(ScoreFile& scores, StateDb& state) {
    std::vector<const Score*> score_of;
    std::string an_image; // the first written image's path, for the message
    std::size_t scored = 0;
    state.for_each_written([&](const Job& job) {
        const auto path = image_relative_path(job.part, job.stem);
        if (an_image.empty()) an_image = path;
        auto it = scores.by_filepath.find(path);
        if (it == scores.by_filepath.end()) {
            score_of.push_back(nullptr);
        } else {
            it->second.used = true;
            score_of.push_back(&it->second);
            ++scored;
        }
    });
    if (!score_of.empty() && scored == 0) {
        // The first row in the file's order is not kept; any row shows the form of its paths.
        const auto& some = scores.by_filepath.begin()->first;
        throw std::runtime_error(scores.path + ": none of its " + std::to_string(scores.by_filepath.size()) +
                                 " rows names an image of this build (one names `" + tags::one_line(some, 80) + "`; this build's are like `" +
                                 an_image + "`, relative to OUT); give --scores '' to split without scores");
    }
    return score_of;
}

} // namespace skyscript::pipeline
