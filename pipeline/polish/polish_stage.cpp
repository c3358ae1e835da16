#include "pipeline/polish/polish_stage.hpp"

#include "captions/caption_styles.hpp"
#include "imagery/http_engine.hpp"
#include "imagery/sha256_hex.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/pixel_number.hpp"
#include "pipeline/common/progress.hpp"
#include "imagery/json_depth.hpp"
#include "pipeline/dataset/write_stage.hpp"
#include "pipeline/polish/answer_cache.hpp"
#include "pipeline/polish/answer_check.hpp"
#include "pipeline/polish/polish_options.hpp"
#include "pipeline/polish/token_window.hpp"
#include "tag_filters/tag_list.hpp"
#include "tag_filters/utf8_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

namespace {

// The first batch is small: an endpoint that refuses every request (a wrong key, an unknown
// model) is found after a few dozen requests, not thousands.
constexpr std::size_t first_batch = 48, batch_size = 2000;
constexpr const char* rate_bucket = "llm";

// kept, rejected and failed count distinct inputs, whether asked now or answered from the cache.
struct Counts {
    std::int64_t images = 0, distinct = 0, requests = 0, cache_hits = 0, reused = 0, kept = 0, rejected = 0, failed = 0;
    std::int64_t tokens_in = 0, tokens_out = 0, rewritten = 0;
};

// One caption of one job, as the prompt and the check see it.
struct Input {
    std::string key, prompt;
    CheckFacts facts;
};

// A distinct input being asked in this batch.
struct Ask {
    Input input;
    std::vector<ChatMessage> messages;
    int asks = 0;
    std::int64_t tokens_in = 0, tokens_out = 0;
    std::string failure; // the request's error, when it got no answer
    std::optional<CachedAnswer> result;
};

TagPairs tags_of(const nlohmann::ordered_json& object) {
    TagPairs out;
    for (const auto& [k, v] : object.items())
        if (v.is_string()) out.emplace_back(k, v.get<std::string>());
    return out;
}

// A job's center_tags (a JSON object) as pairs.
TagPairs parse_tags(const std::string& json) {
    const auto j = imagery::parse_json_within_depth<nlohmann::ordered_json>(tags::valid_utf8(json));
    return j.is_object() ? tags_of(j) : TagPairs{};
}

// A job's surrounding_tags (a JSON array of objects), most prominent first.
std::vector<TagPairs> parse_surroundings(const std::string& json) {
    std::vector<TagPairs> out;
    const auto j = imagery::parse_json_within_depth<nlohmann::ordered_json>(tags::valid_utf8(json));
    if (j.is_array())
        for (const auto& object : j)
            if (object.is_object()) out.push_back(tags_of(object));
    return out;
}

// Each key and value on the prompt's one line: a value's line break would start a line of the
// prompt's own ("\nCaption: ..." forged a caption the model then rewrote).
std::string tags_text(const TagPairs& tags) {
    std::string out;
    for (const auto& [k, v] : tags) out.append(out.empty() ? "" : ", ").append(tags::one_line(k)).append("=").append(tags::one_line(v));
    return out;
}

// The surroundings the caption draws from: most prominent first, identical tag sets once, at most `max`.
std::vector<TagPairs> named_surroundings(const std::vector<TagPairs>& all, std::size_t max) {
    std::vector<TagPairs> out;
    std::unordered_set<std::string> seen;
    for (const auto& tags : all) {
        if (out.size() >= max) break;
        if (!tags.empty() && seen.insert(tags_text(tags)).second) out.push_back(tags);
    }
    return out;
}

std::vector<captions::Tag> views(const TagPairs& tags) {
    std::vector<captions::Tag> out;
    for (const auto& [k, v] : tags) out.push_back({k, v});
    return out;
}

// The key never leaves the process: a server that echoes it (in an error, in an answer) gets it
// cut out, also as JSON may write it (a `/` as `\/`, as PHP's json_encode does).
std::string scrub(std::string text, const std::string& secret) {
    if (secret.size() < 4) return text;
    constexpr std::string_view mark = "[redacted]";
    std::string escaped;
    for (const char c : secret) escaped += c == '/' ? std::string("\\/") : std::string(1, c);
    // Case ignored (ASCII) for a key long enough to be a secret's: a server's answer or error
    // may echo it upper-cased, no key but most of one (red-team round 37: kept in
    // polish_answers.sqlite); a local endpoint's placeholder (`ollama`, `none`) would take
    // every "Ollama" and "None" of the answers with it.
    const bool fold = secret.size() >= 16;
    const auto lower = [fold](std::string t) {
        if (!fold) return t;
        for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return t;
    };
    for (const auto& form : {lower(secret), lower(escaped)}) {
        auto folded = lower(text);
        for (auto at = folded.find(form); at != std::string::npos; at = folded.find(form, at + mark.size())) {
            text.replace(at, form.size(), mark);
            folded.replace(at, form.size(), mark);
        }
    }
    return text;
}

constexpr std::string_view kept_before = "; the caption polished before is kept (";

// Which model and prompt a job's polish record says made its caption of `source`: the
// record's, or, when that run's request failed too, what its record said the kept one's were.
std::string made_by(const std::string& record_text, std::string_view source) {
    const auto record = imagery::parse_json_within_depth(record_text);
    if (!record.is_object()) return "by an earlier run";
    if (const auto f = record.find(source); f != record.end() && f->is_string())
        if (const auto& v = f->get_ref<const std::string&>(); v.rfind(kept_before) != std::string::npos && v.ends_with(")")) {
            const auto from = v.rfind(kept_before) + kept_before.size();
            return v.substr(from, v.size() - 1 - from);
        }
    if (!record.contains("model") || !record["model"].is_string()) return "by an earlier run";
    std::string out = "model " + tags::one_line(record["model"].get<std::string>(), 200);
    if (record.contains("prompt") && record["prompt"].is_string()) out += ", prompt " + tags::one_line(record["prompt"].get<std::string>(), 100);
    return out;
}

// A rejected answer's text as kept in the cache and sent back: far longer than any caption.
constexpr std::size_t max_rejected_bytes = 4096;

// Reasoning models served through the chat API (DeepSeek-R1, Qwen3 on Ollama or llama.cpp)
// put their thinking first, in <think>...</think>: the caption is what follows.
std::string without_reasoning(std::string content) {
    const auto start = content.find_first_not_of(" \t\r\n");
    if (start == std::string::npos || content.compare(start, 7, "<think>") != 0) return content;
    const auto end = content.find("</think>", start);
    return end == std::string::npos ? std::string() : content.substr(end + 8);
}

class Polisher {
public:
    Polisher(BuildSession& s, PolishOptions o)
        : s_(s), o_(std::move(o)), check_(tags::builtin_tag_names(), o_.prompt.labels()),
          natural_("natural", {captions::CaptionOptions{o_.max_surrounding}, tags::builtin_tag_names()}),
          cache_(BuildDir(s.out_dir).polish_answers(), false), tokens_(o_.tokens_per_minute), progress_("polish", s.quiet, Progress::Unit::counted) {
        // Without the spaces and line ends around it (a key file read into the variable): sent
        // with them, a server reads the key without them, and an echo of it would escape scrub().
        if (const char* key = std::getenv(o_.key_env.c_str())) {
            key_ = key;
            const auto first = key_.find_first_not_of(" \t\r\n"), last = key_.find_last_not_of(" \t\r\n");
            key_ = first == std::string::npos ? std::string() : key_.substr(first, last - first + 1);
        }
        for (const auto& dir : o_.reuse)
            if (fs::exists(BuildDir(dir).polish_answers())) reuse_.push_back(std::make_unique<AnswerCache>(BuildDir(dir).polish_answers(), true));
        imagery::HttpEngineOptions e;
        e.max_in_flight = o_.in_flight;
        e.max_attempts = o_.attempts;
        e.timeout_s = o_.timeout_s;
        e.max_body_bytes = 1 << 20; // an answer of a few hundred tokens is a few KB
        engine_ = std::make_unique<imagery::HttpEngine>(e);
        engine_->set_max_in_flight(rate_bucket, o_.in_flight);
        if (o_.requests_per_second > 0) engine_->set_rate(rate_bucket, o_.requests_per_second, std::max(1.0, o_.requests_per_second));
    }

    StageSummary run() {
        const auto start = std::chrono::steady_clock::now();
        auto& state = *s_.state;
        // The meta files follow the state DB: a run that did not finish may have changed captions
        // whose pickles it did not make again, so every pickle is made again after one.
        const bool rewrite_all = !state.stage_finished("polish");
        state.unfinish_stage("polish");
        state.mark_polish_started();
        const auto total = static_cast<std::uint64_t>(state.count_by_status()["written"]);
        bool changed = false, split_forgotten = false;
        std::int64_t after = -1;
        for (std::size_t limit = first_batch;; limit = batch_size) {
            auto batch = state.jobs(JobStatus::written, "", after, limit);
            if (batch.empty()) break;
            after = batch.back().job_id;
            std::vector<Job> updated;
            bool captions_changed = false;
            polish_batch(batch, rewrite_all, updated, captions_changed);
            // The CSVs, the card and the report no longer say what the jobs do (a record alone,
            // a failed request's, changes only meta.jsonl and the pickles, made again here).
            if (captions_changed && !split_forgotten) {
                state.unfinish_stage("split");
                state.unfinish_stage("report");
                split_forgotten = true;
            }
            if (!updated.empty()) {
                state.record_polished(updated);
                state.record_meta_bytes(updated, write_meta_pickles(s_.out_dir, updated));
                counts_.rewritten += static_cast<std::int64_t>(updated.size());
                changed = true;
            }
            progress_.update(static_cast<std::uint64_t>(counts_.images), total, static_cast<std::uint64_t>(counts_.images), "images");
            // An endpoint that has answered nothing at all (a wrong key, an unknown model) is not
            // asked thousands of times more; nor is one that stopped answering part way (a
            // server down or hung: each request held --timeout x --attempts, for every input left).
            if ((counts_.failed > 0 && answered_ == 0) || failed_in_a_row_ >= static_cast<std::int64_t>(first_batch)) {
                progress_.finish();
                if (changed) write_meta_jsonl(s_.out_dir, state); // as the state DB and the pickles now say
                if (answered_ == 0) throw std::runtime_error("polish: every request to " + chat_completions_url(o_.endpoint) + " failed: " + first_failure_);
                throw std::runtime_error("polish: " + chat_completions_url(o_.endpoint) + " stopped answering: " + std::to_string(failed_in_a_row_) +
                                         " requests in a row failed (the last: " + last_failure_ +
                                         "); the captions answered are kept, and a rerun asks for the others");
            }
        }
        progress_.finish();
        if (changed || rewrite_all) write_meta_jsonl(s_.out_dir, state);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const auto& http = engine_->stats();
        const nlohmann::json record{{"images", counts_.images},       {"distinct_inputs", counts_.distinct}, {"requests", counts_.requests},
                                    {"http_retries", http.retries},   {"cache_hits", counts_.cache_hits},    {"reused", counts_.reused},
                                    {"kept", counts_.kept},           {"rejected", counts_.rejected},        {"failed", counts_.failed},
                                    {"tokens_in", counts_.tokens_in}, {"tokens_out", counts_.tokens_out},    {"model", o_.chat.model},
                                    {"prompt", o_.prompt.hash()},     {"meta_rewritten", counts_.rewritten}};
        if (!s_.quiet) print(seconds, http.retries);
        auto summary = StageSummary::finished(seconds, record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), counts_.images);
        summary.complete = counts_.failed == 0;
        return summary;
    }

private:
    void print(double seconds, std::uint64_t retries) const {
        const auto reused = counts_.reused ? " (" + std::to_string(counts_.reused) + " from --reuse)" : std::string();
        std::printf("polish: %lld images, %lld distinct inputs (%lld kept, %lld rejected: natural caption kept, %lld failed); %lld from the "
                    "cache%s, %lld requests (%llu HTTP retries), %lld tokens in, %lld out (%.2f s)\n",
                    static_cast<long long>(counts_.images), static_cast<long long>(counts_.distinct), static_cast<long long>(counts_.kept),
                    static_cast<long long>(counts_.rejected), static_cast<long long>(counts_.failed), static_cast<long long>(counts_.cache_hits),
                    reused.c_str(), static_cast<long long>(counts_.requests), static_cast<unsigned long long>(retries),
                    static_cast<long long>(counts_.tokens_in), static_cast<long long>(counts_.tokens_out), seconds);
        if (counts_.failed) std::printf("  %lld inputs got no answer (%s); a rerun asks for them again\n", static_cast<long long>(counts_.failed), first_failure_.c_str());
    }

    // The input for rule caption `source` (title: the focus alone; title_multi_objects: with `around`).
    Input make_input(const Job& job, std::string_view source, const TagPairs& focus, const std::vector<TagPairs>& around) const {
        const bool multi = source != "title";
        Input in;
        PromptFields f;
        f.caption = tags::valid_utf8(job.caption(source));
        f.tags = tags_text(focus);
        if (multi)
            for (const auto& object : around) f.surroundings.append(f.surroundings.empty() ? "" : "; ").append(tags_text(object));
        std::string gsd;
        append_pixel_number(gsd, job.grid.gsd);
        f.gsd = gsd;
        in.prompt = o_.prompt.render(f);
        char settings[64];
        std::snprintf(settings, sizeof settings, "%.17g\n%d\n", o_.chat.temperature, o_.chat.max_tokens);
        in.key = imagery::sha256_hex(o_.chat.model + "\n" + settings + o_.prompt.hash() + "\n" + in.prompt, 16);
        in.facts.focus_tag = tags::valid_utf8(job.focus_tag);
        in.facts.focus = focus;
        if (multi) in.facts.surroundings = around;
        in.facts.caption = f.caption;
        if (o_.prompt.uses_gsd()) in.facts.gsd = gsd;
        return in;
    }

    // The cached answer of an input, here or in a --reuse build (copied here).
    std::optional<CachedAnswer> cached(const Input& in, bool& reused) {
        reused = false;
        if (auto a = cache_.find(in.key)) return checked(std::move(*a), in.facts);
        for (auto& other : reuse_)
            if (auto a = other->find(in.key)) {
                auto c = checked(std::move(*a), in.facts);
                if (c) {
                    cache_.put(*c);
                    reused = true;
                }
                return c;
            }
        return std::nullopt;
    }

    // A cached answer is taken only as an answer asked now would be: cleaned and checked again.
    // The file is OUT's (or another build's) and may have been edited, or written by a check
    // that let more through: a NUL, a line break or a number the tags lack went into the CSVs.
    // A kept answer that fails now is no answer: the input is asked again (and its new answer
    // replaces it). A rejected one stays rejected: its input was asked twice already.
    std::optional<CachedAnswer> checked(CachedAnswer a, const CheckFacts& facts) const {
        if (!a.kept) return a;
        a.answer = scrub(AnswerCheck::clean(tags::valid_utf8(a.answer)), key_);
        if (check_.check(a.answer, facts)) return std::nullopt;
        return a;
    }

    void polish_batch(std::vector<Job>& batch, bool rewrite_all, std::vector<Job>& updated, bool& captions_changed) {
        // Each job's two inputs; the distinct ones not answered yet are asked.
        std::vector<std::array<std::string, 2>> job_keys(batch.size());
        std::unordered_map<std::string, std::size_t> ask_index;
        std::vector<Ask> asks;
        std::unordered_map<std::string, CachedAnswer> answers;
        const auto fields = captions::polished_caption_fields();
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const auto& job = batch[i];
            const auto focus = parse_tags(job.center_tags);
            const auto around = named_surroundings(parse_surroundings(job.surrounding_tags), o_.max_surrounding);
            for (int m = 0; m < 2; ++m) {
                auto in = make_input(job, captions::polished_source_field(fields[m]), focus, around);
                job_keys[i][m] = in.key;
                // Asked once a run: one that failed in an earlier batch is not asked again (the
                // caption of a common object had been asked in every batch, counted failed in each).
                if (answers.count(in.key) || ask_index.count(in.key) || failed_.count(in.key)) continue;
                const bool first_time = seen_.insert(in.key).second;
                if (first_time) ++counts_.distinct;
                bool reused = false;
                if (auto a = cached(in, reused)) {
                    if (first_time) {
                        ++counts_.cache_hits;
                        counts_.reused += reused;
                        (a->kept ? counts_.kept : counts_.rejected) += 1;
                    }
                    answers.emplace(in.key, std::move(*a));
                    continue;
                }
                ask_index.emplace(in.key, asks.size());
                Ask ask;
                ask.input = std::move(in);
                ask.messages = {{"user", ask.input.prompt}};
                asks.push_back(std::move(ask));
            }
        }
        ask_all(asks);
        for (auto& ask : asks)
            if (ask.result) answers.emplace(ask.input.key, *ask.result);
            else failed_.emplace(ask.input.key, failure_index(ask.failure));

        // Each job's polished captions: the kept answer, else (rejected) the natural caption;
        // none for an input that got no answer.
        captions::CaptionEntries natural;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            auto& job = batch[i];
            ++counts_.images;
            bool natural_made = false;
            nlohmann::ordered_json record{{"model", o_.chat.model}, {"prompt", o_.prompt.hash()}};
            captions::CaptionEntries polished;
            for (int m = 0; m < 2; ++m) {
                const auto source = captions::polished_source_field(fields[m]);
                const auto it = answers.find(job_keys[i][m]);
                if (it == answers.end()) { // neither cached nor answered: its request failed
                    // A caption an earlier run polished stays (another model's or prompt's, as its
                    // record said): a run that fails, a model's name mistyped, loses nothing.
                    const auto earlier = std::find_if(job.captions.begin(), job.captions.end(), [&](const auto& e) { return e.field == fields[m]; });
                    const auto failure = "failed: " + failures_[failed_.at(job_keys[i][m])];
                    if (earlier == job.captions.end()) {
                        record[std::string(source)] = failure;
                    } else {
                        polished.push_back(*earlier);
                        record[std::string(source)] = failure + std::string(kept_before) + made_by(job.polish, source) + ")";
                    }
                    continue;
                }
                const auto& answer = it->second;
                if (answer.kept) {
                    polished.push_back({std::string(fields[m]), answer.answer});
                    record[std::string(source)] = "kept";
                    continue;
                }
                if (!natural_made) {
                    const auto focus = parse_tags(job.center_tags);
                    const auto around_tags = parse_surroundings(job.surrounding_tags);
                    const auto focus_views = views(focus);
                    std::vector<std::vector<captions::Tag>> around_views;
                    for (const auto& t : around_tags) around_views.push_back(views(t));
                    const std::vector<captions::TagSet> around_sets(around_views.begin(), around_views.end());
                    natural_.caption(focus_views, around_sets, natural);
                    natural_made = true;
                }
                const auto natural_field = std::string(source) + "_natural"; // title_natural, title_multi_objects_natural
                std::string text;
                for (const auto& e : natural)
                    if (e.field == natural_field) text = e.text;
                polished.push_back({std::string(fields[m]), text});
                record[std::string(source)] = "rejected: " + answer.reason;
            }
            std::string record_text = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            // What the job holds now, against what it had.
            captions::CaptionEntries before;
            for (const auto& e : job.captions)
                if (!captions::polished_source_field(e.field).empty()) before.push_back(e);
            const bool same_captions = before.size() == polished.size() && std::equal(before.begin(), before.end(), polished.begin(), [](const auto& a, const auto& b) {
                                           return a.field == b.field && a.text == b.text;
                                       });
            captions_changed = captions_changed || !same_captions;
            if (same_captions && job.polish == record_text && !rewrite_all) continue;
            std::erase_if(job.captions, [](const auto& e) { return !captions::polished_source_field(e.field).empty(); });
            job.captions.insert(job.captions.end(), polished.begin(), polished.end());
            job.polish = std::move(record_text);
            updated.push_back(job);
        }
    }

    std::int64_t cost(const Ask& ask) const {
        std::size_t chars = 0;
        for (const auto& m : ask.messages) chars += m.content.size();
        return static_cast<std::int64_t>(chars / 4) + o_.chat.max_tokens;
    }

    void submit(Ask& ask, std::uint64_t id) {
        imagery::HttpRequest r;
        r.id = id;
        r.url = chat_completions_url(o_.endpoint);
        r.method = "POST";
        r.body = chat_request_body(o_.chat, ask.messages);
        r.headers = {"Content-Type: application/json", "Accept: application/json"};
        if (!key_.empty()) {
            const auto key = key_;
            r.start_headers = [key] { return std::vector<std::string>{"Authorization: Bearer " + key}; };
        }
        r.source = rate_bucket;
        r.cacheable = false;
        r.max_body_bytes = 1 << 20;
        r.validate = [](const imagery::HttpResponse& response) -> std::optional<std::string> {
            auto parsed = parse_chat_response(response.body);
            if (parsed.answer) return std::nullopt;
            return parsed.error;
        };
        ++ask.asks;
        ++counts_.requests;
        engine_->submit(std::move(r));
    }

    struct EndpointDown {};
    // Asks every input, within the endpoint's limits; each ends answered (kept or rejected) or failed.
    void ask_all(std::vector<Ask>& asks) {
        std::deque<std::size_t> waiting;
        for (std::size_t i = 0; i < asks.size(); ++i) waiting.push_back(i);
        // An endpoint that has answered none of this run's first `first_batch` inputs, or whose
        // last `first_batch` requests failed one after another, is asked no more (a rerun's first
        // batches may all come from the cache: the batch where asking starts can hold thousands
        // of inputs); run() then stops the stage.
        const auto endpoint_down = [&] { return failed_in_a_row_ >= static_cast<std::int64_t>(first_batch); };
        const auto not_asked = [&] {
            return answered_ == 0 ? "not asked: the endpoint answered none of the " + std::to_string(first_batch) + " inputs asked before it"
                                  : "not asked: the " + std::to_string(failed_in_a_row_) + " requests to the endpoint before it failed, one after another";
        };
        const auto feed = [&] {
            if (endpoint_down()) {
                for (const auto i : waiting) {
                    asks[i].failure = not_asked();
                    ++counts_.failed;
                }
                waiting.clear();
                return;
            }
            while (!waiting.empty()) {
                if (answered_ == 0 && counts_.requests >= static_cast<std::int64_t>(first_batch)) return; // until one is answered
                auto& ask = asks[waiting.front()];
                if (!tokens_.take(cost(ask), TokenWindow::Clock::now())) return;
                submit(ask, waiting.front());
                waiting.pop_front();
            }
        };
        const auto on_done = [&](imagery::HttpResult&& r) {
            auto& ask = asks[r.id];
            if (!r.ok) {
                ask.failure = scrub(r.error + (r.error_detail.empty() ? "" : ": " + r.error_detail), key_);
                ask.failure = tags::one_line(ask.failure, 300); // a server's text reaches a terminal
                if (first_failure_.empty()) first_failure_ = ask.failure;
                last_failure_ = ask.failure;
                ++counts_.failed;
                ++failed_in_a_row_;
                // The requests queued and in flight are dropped, not waited for: the batch hands
                // the engine up to 2,000 at once, each held --timeout x --attempts by a hung server.
                if (endpoint_down()) throw EndpointDown{};
                feed();
                return;
            }
            const auto parsed = parse_chat_response(r.response.body);
            const auto& a = *parsed.answer; // validated by the engine
            ++answered_;
            failed_in_a_row_ = 0;
            ask.tokens_in += a.prompt_tokens;
            ask.tokens_out += a.completion_tokens;
            counts_.tokens_in += a.prompt_tokens;
            counts_.tokens_out += a.completion_tokens;
            const auto text = scrub(AnswerCheck::clean(without_reasoning(tags::valid_utf8(a.content))), key_);
            std::optional<std::string> reason;
            if (a.finish_reason == "length") reason = "it was cut off at " + std::to_string(o_.chat.max_tokens) + " tokens";
            else reason = check_.check(text, ask.input.facts);
            // A rejected answer is kept, and sent back, only as far as an answer may be long: a
            // server that ignores max_tokens would fill the cache with megabytes an answer.
            const auto kept_text = reason ? std::string(tags::utf8_prefix(text, max_rejected_bytes)) : text;
            if (reason && ask.asks < 2) {
                ask.messages.push_back({"assistant", kept_text});
                ask.messages.push_back({"user", "That caption was rejected: " + *reason +
                                                    ". Write it again as one sentence, using only the caption and the tags given."});
                waiting.push_front(r.id);
                feed();
                return;
            }
            CachedAnswer c;
            c.key = ask.input.key;
            c.model = o_.chat.model;
            c.prompt_hash = o_.prompt.hash();
            c.input = ask.input.prompt;
            c.answer = kept_text;
            c.kept = !reason;
            c.reason = reason.value_or("");
            c.asks = ask.asks;
            c.tokens_in = ask.tokens_in;
            c.tokens_out = ask.tokens_out;
            cache_.put(c);
            (c.kept ? counts_.kept : counts_.rejected) += 1;
            ask.result = std::move(c);
            feed();
        };
        while (!waiting.empty()) {
            feed();
            try {
                engine_->run(on_done);
            } catch (const EndpointDown&) { // run() dropped what it had not ended
                for (auto& ask : asks)
                    if (!ask.result && ask.failure.empty()) {
                        ask.failure = not_asked();
                        ++counts_.failed;
                    }
                return;
            }
            if (waiting.empty()) break;
            // Out of tokens for this minute and nothing in flight: wait until the next request fits.
            std::this_thread::sleep_for(tokens_.wait(cost(asks[waiting.front()]), TokenWindow::Clock::now()));
        }
    }

    BuildSession& s_;
    PolishOptions o_;
    AnswerCheck check_;
    captions::CaptionStyles natural_;
    AnswerCache cache_;
    std::vector<std::unique_ptr<AnswerCache>> reuse_;
    std::unique_ptr<imagery::HttpEngine> engine_;
    TokenWindow tokens_;
    Progress progress_;
    std::string key_, first_failure_, last_failure_;
    std::unordered_set<std::string> seen_; // the keys met in this run: distinct inputs
    // Why each key's request failed this run: an index into failures_, the distinct reasons
    // (a planet's failed inputs share a handful; held once each).
    std::unordered_map<std::string, std::uint32_t> failed_;
    std::vector<std::string> failures_;
    std::unordered_map<std::string, std::uint32_t> failure_ids_;

    std::uint32_t failure_index(const std::string& reason) {
        const auto [it, fresh] = failure_ids_.try_emplace(reason, static_cast<std::uint32_t>(failures_.size()));
        if (fresh) failures_.push_back(reason);
        return it->second;
    }
    std::int64_t answered_ = 0;            // responses with an answer in this run
    std::int64_t failed_in_a_row_ = 0;     // requests failed since the last answer
    Counts counts_;
};

} // namespace

StageSummary stage_polish(BuildSession& s) {
    if (!s.options.flag("polish")) return StageSummary::nothing_to_do();
    auto options = polish_options(s.options);
    return Polisher(s, std::move(options)).run();
}

} // namespace skyscript::pipeline
