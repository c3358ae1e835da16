#include "pipeline/polish/chat_api.hpp"

#include "imagery/json_depth.hpp"
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

namespace {

int hex_unit(std::string_view s, std::size_t at) { // the 4 hex digits at `at`, or -1
    if (at + 4 > s.size()) return -1;
    int v = 0;
    for (std::size_t i = at; i < at + 4; ++i) {
        const char c = s[i];
        const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

// `body` with each `\uD800`..`\uDFFF` escape that is not half of a pair made `\uFFFD`: JSON
// allows a lone surrogate escape, a strict parser refuses the whole document for one, and a
// model's answer cut inside an emoji failed its request, asked again by every rerun.
std::string without_lone_surrogates(std::string_view body) {
    std::string out;
    out.reserve(body.size());
    for (std::size_t i = 0; i < body.size();) {
        if (body[i] != '\\') {
            out.push_back(body[i++]);
            continue;
        }
        // An escape: `\\` is a backslash, kept with what it escapes; `\uXXXX` is a code unit.
        if (i + 1 < body.size() && body[i + 1] == 'u') {
            const int unit = hex_unit(body, i + 2);
            if (unit >= 0xD800 && unit <= 0xDBFF) {
                const int next = i + 7 < body.size() && body[i + 6] == '\\' && body[i + 7] == 'u' ? hex_unit(body, i + 8) : -1;
                if (next >= 0xDC00 && next <= 0xDFFF) {
                    out.append(body.substr(i, 12));
                    i += 12;
                } else {
                    out += "\\uFFFD";
                    i += 6;
                }
                continue;
            }
            if (unit >= 0xDC00 && unit <= 0xDFFF) {
                out += "\\uFFFD";
                i += 6;
                continue;
            }
        }
        out.append(body.substr(i, std::min<std::size_t>(2, body.size() - i)));
        i += 2;
    }
    return out;
}

} // namespace

ParsedChat parse_chat_response(const std::string& body) {
    ParsedChat out;
    // Invalid UTF-8 in a string (a server's bad byte in one word) fails a strict JSON parse:
    // the bytes become U+FFFD, and the answer is checked as any other; a lone surrogate escape too.
    const auto j = imagery::parse_json_within_depth(without_lone_surrogates(tags::valid_utf8(body)));
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
