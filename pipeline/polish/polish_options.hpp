#pragma once
// The polish stage's options (the `llm-*` rows of option_table.hpp), read and checked once.

#include "pipeline/common/build_options.hpp"
#include "pipeline/polish/chat_api.hpp"
#include "pipeline/polish/prompt_template.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace skyscript::pipeline {

struct PolishOptions {
    std::string endpoint;          // base URL, http or https
    ChatSettings chat;
    std::string key_env;           // the variable the API key is read from (its value is never stored)
    PromptTemplate prompt = PromptTemplate::builtin();
    int in_flight = 8;
    double requests_per_second = 0; // 0: no limit
    std::int64_t tokens_per_minute = 0;
    double timeout_s = 60;
    int attempts = 5;
    std::size_t max_surrounding = 5;
    std::vector<std::string> reuse; // earlier builds whose answers are taken (--reuse)
};

// Throws UsageError naming the option (no endpoint, no model, a bad URL or template).
PolishOptions polish_options(const BuildOptions& options);

} // namespace skyscript::pipeline
