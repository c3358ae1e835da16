#include "pipeline/split/split_assignment.hpp"

#include "pipeline/common/cli_args.hpp"
#include "pipeline/common/seeded_hash.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>
#include <unordered_map>

namespace skyscript::pipeline {

std::int64_t split_size(const std::string& spec, std::int64_t images, std::int64_t skyscript_size, double auto_share,
                        const std::string& option) {
    if (spec == "auto")
        return std::min<std::int64_t>(skyscript_size, std::max<std::int64_t>(images > 0 ? 1 : 0, static_cast<std::int64_t>(std::ceil(images * auto_share))));
    const bool percent = !spec.empty() && spec.back() == '%';
    const std::string number = percent ? spec.substr(0, spec.size() - 1) : spec;
    double v = -1;
    const auto [p, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
    // A count past 10^15 images is no count (and inf or 1e19 would not fit the int64 it becomes).
    if (number.empty() || ec != std::errc{} || p != number.data() + number.size() || !std::isfinite(v) || v < 0 || (percent && v > 100) ||
        (!percent && (v != std::floor(v) || v > 1e15)))
        throw UsageError("--" + option + " expects a count, a percentage or auto (e.g. 5000, 2%, auto), got `" + spec + "`");
    return percent ? static_cast<std::int64_t>(std::llround(images * v / 100.0)) : static_cast<std::int64_t>(v);
}

namespace {

std::uint64_t block_key(double lon, double lat, double block_deg) {
    const auto bx = static_cast<std::int32_t>(std::floor(lon / block_deg)), by = static_cast<std::int32_t>(std::floor(lat / block_deg));
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(bx)) << 32) | static_cast<std::uint32_t>(by);
}

std::size_t find_root(std::vector<std::size_t>& parent, std::size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
}

} // namespace

SplitAssignment assign_splits(const std::vector<SplitInput>& images, double block_deg, std::uint64_t seed, std::int64_t val_size,
                              std::int64_t test_size) {
    SplitAssignment a;
    a.block_deg = block_deg;
    a.asked_val = val_size;
    a.asked_test = test_size;
    a.split.assign(images.size(), Split::train);
    // Blocks, then groups of blocks joined by a shared object.
    std::unordered_map<std::uint64_t, std::size_t> block_index;
    std::vector<std::uint64_t> keys;
    std::vector<std::size_t> image_block(images.size()), parent;
    for (std::size_t i = 0; i < images.size(); ++i) {
        const auto key = block_key(images[i].lon, images[i].lat, block_deg);
        auto [it, added] = block_index.emplace(key, keys.size());
        if (added) {
            keys.push_back(key);
            parent.push_back(parent.size());
        }
        image_block[i] = it->second;
    }
    // (object, block) sorted: an object's images are adjacent, their blocks joined (16 bytes an image, not a hash map).
    {
        std::vector<std::pair<std::uint64_t, std::size_t>> by_object(images.size());
        for (std::size_t i = 0; i < images.size(); ++i) by_object[i] = {images[i].object, image_block[i]};
        std::sort(by_object.begin(), by_object.end());
        for (std::size_t i = 1; i < by_object.size(); ++i)
            if (by_object[i].first == by_object[i - 1].first && by_object[i].second != by_object[i - 1].second)
                parent[find_root(parent, by_object[i].second)] = find_root(parent, by_object[i - 1].second);
    }
    a.blocks = static_cast<std::int64_t>(keys.size());
    struct Group {
        std::uint64_t order = UINT64_MAX, min_key = UINT64_MAX;
        std::int64_t images = 0;
        Split split = Split::train;
    };
    std::unordered_map<std::size_t, Group> by_root;
    for (std::size_t b = 0; b < keys.size(); ++b) {
        auto& g = by_root[find_root(parent, b)];
        const auto h = seeded_hash(seed, label_hash("split-block"), keys[b]);
        if (h < g.order || (h == g.order && keys[b] < g.min_key)) g.order = h, g.min_key = keys[b];
    }
    for (std::size_t i = 0; i < images.size(); ++i) ++by_root[find_root(parent, image_block[i])].images;
    std::vector<Group*> groups;
    for (auto& [root, g] : by_root) groups.push_back(&g);
    std::sort(groups.begin(), groups.end(), [](const Group* x, const Group* y) {
        return x->order != y->order ? x->order < y->order : x->min_key < y->min_key;
    });
    a.groups = static_cast<std::int64_t>(groups.size());
    std::int64_t& val = a.count[1];
    std::int64_t& test = a.count[2];
    std::size_t train_groups = groups.size();
    const auto take = [&](Group* g, Split s) {
        g->split = s;
        (s == Split::test ? test : val) += g->images;
        --train_groups;
    };
    for (auto* g : groups) {
        if (train_groups <= 1) break;
        if (test + g->images <= test_size) take(g, Split::test);
        else if (val + g->images <= val_size) take(g, Split::val);
    }
    // Blocks larger than the asked size: the smallest train group (first in hash order).
    for (const Split s : {Split::test, Split::val}) {
        if ((s == Split::test ? test : val) > 0 || (s == Split::test ? test_size : val_size) == 0 || train_groups <= 1) continue;
        Group* smallest = nullptr;
        for (auto* g : groups)
            if (g->split == Split::train && (!smallest || g->images < smallest->images)) smallest = g;
        if (smallest) take(smallest, s);
    }
    for (std::size_t i = 0; i < images.size(); ++i) a.split[i] = by_root[find_root(parent, image_block[i])].split;
    a.count[0] = static_cast<std::int64_t>(images.size()) - val - test;
    return a;
}

SplitAssignment assign_splits_auto(const std::vector<SplitInput>& images, std::uint64_t seed, std::int64_t val_size, std::int64_t test_size) {
    constexpr double widest = 0.05, narrowest = 0.001;
    auto a = assign_splits(images, widest, seed, val_size, test_size);
    for (double block = widest / 2; block >= narrowest; block /= 2) {
        // Done when each holds half to all of its size (a block too large for val or test is
        // still given to it whole, over the size: smaller blocks then fit).
        const auto fits = [](std::int64_t got, std::int64_t asked) { return 2 * got >= asked && got <= asked; };
        if (fits(a.count[1], val_size) && fits(a.count[2], test_size)) break;
        a = assign_splits(images, block, seed, val_size, test_size);
    }
    return a;
}

} // namespace skyscript::pipeline
