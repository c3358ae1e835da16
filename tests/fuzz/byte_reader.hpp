#pragma once
// Splits a fuzz input into small values. Strings end at a backslash followed by any byte
// but another backslash ("\\\\" is one backslash), as in LLVM's FuzzedDataProvider, so any
// byte (NUL, invalid UTF-8) can be in a string and seeds stay readable:
//   "building\\ yes\\ name\\ Town hall\\ "  ->  building, yes, name, Town hall

#include <cstddef>
#include <cstdint>
#include <string>

namespace skyscript::fuzz {

class ByteReader {
public:
    ByteReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

    bool empty() const noexcept { return pos_ >= size_; }
    std::size_t remaining() const noexcept { return size_ - pos_; }

    // The next byte, 0 past the end.
    std::uint8_t byte() noexcept { return pos_ < size_ ? data_[pos_++] : 0; }

    // The next string, at most `max` bytes (then it ends there).
    std::string string(std::size_t max = 256) {
        std::string s;
        while (pos_ < size_ && s.size() < max) {
            const char c = static_cast<char>(data_[pos_++]);
            if (c == '\\' && pos_ < size_) {
                const char next = static_cast<char>(data_[pos_++]);
                if (next != '\\') break;
            }
            s.push_back(c);
        }
        return s;
    }

    // Whatever is left, as bytes.
    std::string rest() {
        std::string s(reinterpret_cast<const char*>(data_ + pos_), size_ - pos_);
        pos_ = size_;
        return s;
    }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

} // namespace skyscript::fuzz
