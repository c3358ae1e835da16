#pragma once
// OUT/polish_answers.sqlite: every answer the polish stage got, by request key (a hash of the
// model and its settings, the prompt template and the input text). A key asked once is never
// asked again: not by a rerun, not after a replan or a whitelist change in the same OUT (the
// file outlives them), and not by a build given `--reuse OUT` (it reads this file). Each
// answer is committed as it arrives, so a SIGKILL loses only the requests in flight.

#include "pipeline/common/sqlite_db.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace skyscript::pipeline {

struct CachedAnswer {
    std::string key;
    std::string model, prompt_hash;
    std::string input;   // the prompt as sent (what the key hashes, with the model)
    std::string answer;  // the kept text, or the last rejected one
    bool kept = false;
    std::string reason;  // why it was rejected ("" when kept)
    int asks = 0;        // requests it took: 1, or 2 after a rejection
    std::int64_t tokens_in = 0, tokens_out = 0;
};

class AnswerCache {
public:
    // Opens (creating) `path`; read-only (never created) when `read_only`.
    AnswerCache(const std::string& path, bool read_only);

    std::optional<CachedAnswer> find(const std::string& key);
    void put(const CachedAnswer& answer); // committed at once
    std::int64_t size();

private:
    SqliteDb db_;
};

} // namespace skyscript::pipeline
