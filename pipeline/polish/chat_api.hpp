#pragma once
// The one call the polish stage makes: OpenAI's chat completions (POST {endpoint}/chat/completions),
// which OpenAI, vLLM, llama.cpp's server and Ollama all answer. Request and response shapes as
// the OpenAI API reference gives them: `model`, `messages` (role, content), `temperature`,
// `max_tokens`; the answer in `choices[0].message.content`, `finish_reason`, and `usage`
// (`prompt_tokens`, `completion_tokens`).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace skyscript::pipeline {

struct ChatMessage {
    std::string role, content; // user | assistant
};

struct ChatSettings {
    std::string model;
    double temperature = 0;
    int max_tokens = 160;
};

std::string chat_request_body(const ChatSettings& settings, const std::vector<ChatMessage>& messages);
// The URL the requests go to: the endpoint with `/chat/completions` appended (a trailing `/` dropped).
std::string chat_completions_url(const std::string& endpoint);

struct ChatAnswer {
    std::string content;
    std::string finish_reason;
    std::int64_t prompt_tokens = 0, completion_tokens = 0;
};

// The answer in a response body, or why there is none ("not JSON", "no choices[0].message.content", ...).
struct ParsedChat {
    std::optional<ChatAnswer> answer;
    std::string error;
};
ParsedChat parse_chat_response(const std::string& body);

} // namespace skyscript::pipeline
