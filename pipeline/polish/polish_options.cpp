#include "pipeline/polish/polish_options.hpp"

#include "pipeline/common/cli_args.hpp"

#include <stdexcept>

namespace skyscript::pipeline {

PolishOptions polish_options(const BuildOptions& options) {
    PolishOptions o;
    o.endpoint = options.text("llm-endpoint");
    if (o.endpoint.empty())
        throw UsageError("polish needs --llm-endpoint URL: the base URL of an OpenAI-compatible API (https://api.openai.com/v1, or a local "
                         "vLLM, llama.cpp or Ollama server such as http://127.0.0.1:8000/v1)");
    if (!o.endpoint.starts_with("http://") && !o.endpoint.starts_with("https://"))
        throw UsageError("--llm-endpoint " + o.endpoint + ": expected an http:// or https:// URL");
    if (o.endpoint.find('@') != std::string::npos || o.endpoint.find('?') != std::string::npos)
        throw UsageError("--llm-endpoint: no credentials or query in the URL (it is recorded in OUT); the key goes in the variable --llm-key-env names");
    o.chat.model = options.text("llm-model");
    if (o.chat.model.empty()) throw UsageError("polish needs --llm-model NAME: the model id the endpoint serves");
    o.chat.temperature = options.number("llm-temperature");
    o.chat.max_tokens = static_cast<int>(options.integer("llm-max-tokens"));
    o.key_env = options.text("llm-key-env");
    if (const auto path = options.text("llm-prompt"); !path.empty()) {
        try {
            o.prompt = PromptTemplate::from_file(path);
        } catch (const std::runtime_error& e) {
            throw UsageError(std::string("--llm-prompt ") + e.what());
        }
    }
    o.in_flight = static_cast<int>(options.integer("llm-in-flight"));
    o.requests_per_second = options.number("llm-rps");
    o.tokens_per_minute = options.integer("llm-tpm");
    o.timeout_s = options.number("timeout");
    o.attempts = static_cast<int>(options.integer("attempts"));
    o.max_surrounding = static_cast<std::size_t>(options.integer("max-surrounding"));
    o.reuse = options.values("reuse");
    return o;
}

} // namespace skyscript::pipeline
