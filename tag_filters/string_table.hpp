#pragma once
// A fixed set of strings (tag keys, values) mapped to values, for the lookups an OSM
// object's tags make: most of its keys (name, addr:*, source...) are not in the set, so a
// lookup must be cheapest when it misses. Open addressing at a load of at most 1/4 and
// the full hash kept per slot: a miss costs one hash over 8-byte words and usually one
// probe, with no string compared. Filled once, then only read.

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skyscript::tags {

template <typename T>
class StringTable {
public:
    // Adds `key` (or, when it is there already, returns its value as it is).
    T& insert(std::string_view key) {
        if (T* found = find_mutable(key)) return *found;
        if (4 * (items_.size() + 1) > slots_.size()) grow();
        items_.emplace_back(std::string(key), T{});
        place(hash(key), static_cast<std::uint32_t>(items_.size() - 1));
        return items_.back().second;
    }

    const T* find(std::string_view key) const noexcept {
        if (slots_.empty()) return nullptr;
        const std::uint64_t h = hash(key);
        for (std::size_t i = h & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
            const Slot& s = slots_[i];
            if (s.item == no_item) return nullptr;
            if (s.hash == h && items_[s.item].first == key) return &items_[s.item].second;
        }
    }

    bool empty() const noexcept { return items_.empty(); }
    std::size_t size() const noexcept { return items_.size(); }

    // Mixes 8 bytes at a time; the last 1-7 bytes and the length go into the final word.
    static std::uint64_t hash(std::string_view s) noexcept {
        constexpr std::uint64_t k = 0x9E3779B97F4A7C15ULL;
        std::uint64_t h = s.size() * k;
        const char* p = s.data();
        std::size_t n = s.size();
        for (; n >= 8; p += 8, n -= 8) {
            std::uint64_t w;
            std::memcpy(&w, p, 8);
            h = std::rotl((h ^ w) * k, 29);
        }
        std::uint64_t w = 0;
        if (n) std::memcpy(&w, p, n);
        h = (h ^ w) * k;
        return h ^ (h >> 32);
    }

private:
    static constexpr std::uint32_t no_item = UINT32_MAX;
    struct Slot {
        std::uint64_t hash = 0;
        std::uint32_t item = no_item;
    };

    T* find_mutable(std::string_view key) noexcept { return const_cast<T*>(std::as_const(*this).find(key)); }

    void place(std::uint64_t h, std::uint32_t item) {
        std::size_t i = h & (slots_.size() - 1);
        while (slots_[i].item != no_item) i = (i + 1) & (slots_.size() - 1);
        slots_[i] = {h, item};
    }

    void grow() {
        slots_.assign(slots_.empty() ? 16 : 2 * slots_.size(), Slot{});
        for (std::uint32_t i = 0; i < items_.size(); ++i) place(hash(items_[i].first), i);
    }

    std::vector<Slot> slots_;                         // a power of two of them
    std::vector<std::pair<std::string, T>> items_;    // in insertion order
};

} // namespace skyscript::tags
