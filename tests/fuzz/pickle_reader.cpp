#include "pickle_reader.hpp"

#include <cstring>

namespace skyscript::fuzz {

namespace {

using Kind = PickleValue::Kind;

class Input {
public:
    explicit Input(std::string_view b) : b_(b) {}
    bool done() const { return pos_ >= b_.size(); }
    std::uint8_t byte() {
        need(1);
        return static_cast<std::uint8_t>(b_[pos_++]);
    }
    std::string_view take(std::size_t n) {
        need(n);
        auto s = b_.substr(pos_, n);
        pos_ += n;
        return s;
    }
    std::uint32_t u32le() {
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v |= std::uint32_t{byte()} << (8 * i);
        return v;
    }
    std::size_t pos() const { return pos_; }

private:
    void need(std::size_t n) const {
        if (b_.size() - pos_ < n) throw PickleError("truncated at byte " + std::to_string(pos_));
    }
    std::string_view b_;
    std::size_t pos_ = 0;
};

// Pops the values above the topmost mark, and the mark.
std::vector<PickleValue> pop_to_mark(std::vector<PickleValue>& stack) {
    std::size_t m = stack.size();
    while (m > 0 && stack[m - 1].kind != Kind::mark) --m;
    if (m == 0) throw PickleError("no MARK on the stack");
    std::vector<PickleValue> items(std::make_move_iterator(stack.begin() + static_cast<std::ptrdiff_t>(m)),
                                   std::make_move_iterator(stack.end()));
    stack.resize(m - 1);
    return items;
}

PickleValue& top(std::vector<PickleValue>& stack, Kind kind, const char* op) {
    if (stack.empty() || stack.back().kind != kind) throw PickleError(std::string(op) + " without its container on the stack");
    return stack.back();
}

} // namespace

PickleValue read_pickle(std::string_view bytes) {
    Input in{bytes};
    if (in.byte() != 0x80 || in.byte() != 2) throw PickleError("does not start with PROTO 2");
    std::vector<PickleValue> stack;
    while (true) {
        const std::size_t at = in.pos();
        const auto op = in.byte();
        PickleValue v;
        switch (op) {
            case '.': // STOP
                if (stack.size() != 1 || stack[0].kind == Kind::mark) throw PickleError("STOP with " + std::to_string(stack.size()) + " values on the stack");
                if (!in.done()) throw PickleError("bytes after STOP");
                return std::move(stack[0]);
            case '(': v.kind = Kind::mark; break;
            case '}': v.kind = Kind::dict; break;
            case ']': v.kind = Kind::list; break;
            case ')': v.kind = Kind::tuple; break;
            case 'N': v.kind = Kind::none; break;
            case 0x88: v.kind = Kind::boolean, v.boolean = true; break;
            case 0x89: v.kind = Kind::boolean, v.boolean = false; break;
            case 'K': v.kind = Kind::integer, v.integer = in.byte(); break;
            case 'J': v.kind = Kind::integer, v.integer = static_cast<std::int32_t>(in.u32le()); break;
            case 0x8a: { // LONG1: n bytes little-endian two's complement
                const std::size_t n = in.byte();
                if (n > 16) throw PickleError("LONG1 of " + std::to_string(n) + " bytes");
                unsigned __int128 u = 0;
                const auto b = in.take(n);
                for (std::size_t i = 0; i < n; ++i) u |= static_cast<unsigned __int128>(static_cast<std::uint8_t>(b[i])) << (8 * i);
                if (n > 0 && n < 16 && (static_cast<std::uint8_t>(b[n - 1]) & 0x80)) u |= ~static_cast<unsigned __int128>(0) << (8 * n);
                v.kind = Kind::integer, v.integer = static_cast<__int128>(u);
                break;
            }
            case 'G': { // BINFLOAT: big-endian IEEE double
                v.kind = Kind::floating;
                for (char c : in.take(8)) v.float_bits = (v.float_bits << 8) | static_cast<std::uint8_t>(c);
                break;
            }
            case 'X': { // BINUNICODE: u32 length, UTF-8 bytes
                v.kind = Kind::string;
                v.string = std::string(in.take(in.u32le()));
                break;
            }
            case 't': v.kind = Kind::tuple, v.items = pop_to_mark(stack); break;
            case 'e': { // APPENDS
                auto items = pop_to_mark(stack);
                auto& list = top(stack, Kind::list, "APPENDS");
                for (auto& i : items) list.items.push_back(std::move(i));
                continue;
            }
            case 'u': { // SETITEMS
                auto items = pop_to_mark(stack);
                if (items.size() % 2) throw PickleError("SETITEMS with an odd number of values");
                auto& dict = top(stack, Kind::dict, "SETITEMS");
                for (std::size_t i = 0; i < items.size(); i += 2) dict.entries.emplace_back(std::move(items[i]), std::move(items[i + 1]));
                continue;
            }
            default: throw PickleError("unexpected opcode " + std::to_string(op) + " at byte " + std::to_string(at));
        }
        stack.push_back(std::move(v));
    }
}

namespace {

std::string int128_text(__int128 v) {
    if (v == 0) return "0";
    const bool negative = v < 0;
    unsigned __int128 u = negative ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
    std::string s;
    for (; u; u /= 10) s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
    return negative ? "-" + s : s;
}

} // namespace

std::string to_string(const PickleValue& v) {
    switch (v.kind) {
        case Kind::none: return "None";
        case Kind::boolean: return v.boolean ? "True" : "False";
        case Kind::integer: return int128_text(v.integer);
        case Kind::floating: {
            double d;
            std::memcpy(&d, &v.float_bits, 8);
            return std::to_string(d);
        }
        case Kind::string: return "'" + v.string + "'";
        case Kind::list:
        case Kind::tuple: {
            std::string s = v.kind == Kind::list ? "[" : "(";
            for (const auto& i : v.items) s += to_string(i) + ", ";
            return s + (v.kind == Kind::list ? "]" : ")");
        }
        case Kind::dict: {
            std::string s = "{";
            for (const auto& [k, i] : v.entries) s += to_string(k) + ": " + to_string(i) + ", ";
            return s + "}";
        }
        case Kind::mark: return "<mark>";
    }
    return "?";
}

} // namespace skyscript::fuzz
