#include "pipeline/polish/chat_api.hpp"

#include "tag_filters/utf8_text.hpp"

#include <nlohmann/json.hpp>

namespace skyscript::pipeline {

std::string chat_request_body(const ChatSettings& settings, const std::vector<ChatMessage>& messages) {
    nlohmann::json body;
    body["model"] = settings.model;
    auto& list = body["messages"] = nlohmann::json::array();
    for (const auto& m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
    body["temperature"] = settings.temperature;
    body["max_tokens"] = settings.max_tokens;
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string chat_completions_url(const std::string& endpoint) {
    auto base = endpoint;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base + "/chat/completions";
}

ParsedChat parse_chat_response(const std::string& body) {
    ParsedChat out;
    // Invalid UTF-8 in a string (a server's bad byte in one word) fails a strict JSON parse:
    // the bytes become U+FFFD, and the answer is checked as any other.
    const auto j = nlohmann::json::parse(tags::valid_utf8(body), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        out.error = "the answer is not a JSON object";
        return out;
    }
    const auto choices = j.find("choices");
    if (choices == j.end() || !choices->is_array() || choices->empty() || !(*choices)[0].is_object()) {
        out.error = "the answer has no choices[0]";
        return out;
    }
    const auto& choice = (*choices)[0];
    const auto message = choice.find("message");
    if (message == choice.end() || !message->is_object() || !message->contains("content") || !(*message)["content"].is_string()) {
        out.error = "the answer has no choices[0].message.content";
        return out;
    }
    ChatAnswer a;
    a.content = (*message)["content"].get<std::string>();
    if (auto f = choice.find("finish_reason"); f != choice.end() && f->is_string()) a.finish_reason = f->get<std::string>();
    if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
        const auto count = [&](const char* name) -> std::int64_t {
            auto v = u->find(name);
            // No answer takes 10^9 tokens: a larger count is a server's nonsense, which summed would overflow.
            return v != u->end() && v->is_number_integer() && v->get<std::int64_t>() >= 0 && v->get<std::int64_t>() < 1000000000 ? v->get<std::int64_t>() : 0;
        };
        a.prompt_tokens = count("prompt_tokens");
        a.completion_tokens = count("completion_tokens");
    }
    out.answer = std::move(a);
    return out;
}

} // namespace skyscript::pipeline
