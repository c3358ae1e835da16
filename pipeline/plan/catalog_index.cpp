#include "pipeline/plan/catalog_index.hpp"

#include "pipeline/catalog/catalog_tags.hpp"
#include "pipeline/common/seeded_hash.hpp"

#include <functional>
#include <future>
#include <memory>

namespace skyscript::pipeline {

FocusGeometry measure_focus(const IndexedObject& o, const std::vector<osm::Point>& line_vertices, std::uint64_t seed) {
    return measure_focus(o.kind, object_key(o.osm_type, o.osm_id), o.rep_lon, o.rep_lat, o.bbox, line_vertices, seed);
}

FocusGeometry measure_focus(const IndexedObject& o, CatalogReader& catalog, std::uint64_t seed) {
    return measure_focus(o, o.kind == 'w' ? catalog.line_vertices(o.fid) : std::vector<osm::Point>{}, seed);
}

namespace {

// fn(0) here and fn(1) ... fn(n - 1) each on a thread of its own; all waited for, then the
// first error rethrown.
void on_threads(std::size_t n, const std::function<void(std::size_t)>& fn) {
    std::vector<std::future<void>> others;
    for (std::size_t k = 1; k < n; ++k) others.push_back(std::async(std::launch::async, fn, k));
    std::exception_ptr error;
    try {
        if (n > 0) fn(0);
    } catch (...) {
        error = std::current_exception();
    }
    for (auto& f : others) {
        try {
            f.get();
        } catch (...) {
            if (!error) error = std::current_exception();
        }
    }
    if (error) std::rethrow_exception(error);
}

} // namespace

// What one reader makes of a run of fids: the objects' groundable tags and the strings they
// use, numbered in the order they first appear. Joined in fid order, the runs number the
// strings as one reader of the whole would (each run's new strings, in its order).
struct CatalogIndex::Part {
    std::vector<IndexedTag> tags;
    std::vector<std::string> strings;
    std::unordered_map<std::string, std::uint32_t> ids;
    std::vector<std::pair<std::string, std::string>> pairs; // reused for each object's tags

    std::uint32_t intern(const std::string& s) {
        const auto [it, added] = ids.try_emplace(s, static_cast<std::uint32_t>(strings.size()));
        if (added) strings.push_back(s);
        return it->second;
    }

    // The object, its tags appended to `tags`.
    IndexedObject indexed(const CatalogObject& c, const tags::TagMatcher& matcher) {
        IndexedObject o;
        o.fid = c.fid;
        o.osm_id = c.osm_id;
        o.osm_type = c.osm_type;
        o.kind = c.kind;
        o.focus_tag = intern(c.focus_tag);
        o.max_gsd = c.max_gsd;
        o.rep_lon = c.rep_lon;
        o.rep_lat = c.rep_lat;
        o.area_m2 = c.area_m2;
        o.length_m = c.length_m;
        o.bbox = c.bbox;
        o.tags_begin = static_cast<std::uint32_t>(tags.size());
        pairs.clear();
        parse_catalog_tags(c.tags, pairs);
        for (const auto& [k, value] : pairs) {
            const auto* e = matcher.find(k, value);
            if (!e) continue; // the run's vocabulary differs from the extract's: not groundable now
            tags.push_back({intern(k), intern(value), static_cast<float>(e->max_gsd), e->role == tags::Role::feature});
        }
        o.tags_end = static_cast<std::uint32_t>(tags.size());
        return o;
    }
};

CatalogIndex::CatalogIndex(CatalogReader& catalog, const tags::TagMatcher& matcher, int threads) {
    if (threads <= 1) {
        Part whole;
        catalog.for_each_with_tags([&](const CatalogObject& c) { objects_.push_back(whole.indexed(c, matcher)); });
        tags_ = std::move(whole.tags);
        strings_ = std::move(whole.strings);
    } else {
        // Runs of equal counts of boxes, the first read on `catalog`, the others each on a
        // connection of its own (closed when read), each object put in its place in objects_;
        // then the runs' string numbers are mapped to the whole's, and their tags put in place,
        // on the threads again.
        const auto boxes = catalog.boxes_by_fid();
        const auto n = std::min<std::size_t>(static_cast<std::size_t>(threads), std::max<std::size_t>(1, boxes.size() / 2048)); // 2048 objects a thread at least
        struct Run {
            std::size_t from = 0, to = 0, count = 0; // boxes [from, to); objects read, at objects_[from...]
            std::uint32_t tags_from = 0;              // its tags' place in tags_
            std::vector<std::uint32_t> to_whole;      // its string numbers, the whole's
            Part part;
        };
        std::vector<Run> runs(n);
        for (std::size_t k = 0; k < n; ++k) runs[k].from = boxes.size() * k / n, runs[k].to = boxes.size() * (k + 1) / n;
        objects_.resize(boxes.size());
        on_threads(n, [&](std::size_t k) {
            auto& run = runs[k];
            std::unique_ptr<CatalogReader> own = k == 0 ? nullptr : std::make_unique<CatalogReader>(catalog.path());
            (own ? *own : catalog).for_each_with_tags(std::span<const FidBox>(boxes.data() + run.from, run.to - run.from), [&](const CatalogObject& c) {
                objects_[run.from + run.count++] = run.part.indexed(c, matcher);
            });
        });
        Part whole; // its strings: the runs' in run order, numbered as one reader numbers them
        std::size_t tags = 0;
        for (auto& run : runs) {
            for (const auto& s : run.part.strings) run.to_whole.push_back(whole.intern(s));
            run.tags_from = static_cast<std::uint32_t>(tags);
            tags += run.part.tags.size();
        }
        strings_ = std::move(whole.strings);
        tags_.resize(tags);
        on_threads(n, [&](std::size_t k) {
            auto& run = runs[k];
            for (std::size_t i = run.from; i < run.from + run.count; ++i) {
                auto& o = objects_[i];
                o.focus_tag = run.to_whole[o.focus_tag];
                o.tags_begin += run.tags_from;
                o.tags_end += run.tags_from;
            }
            auto* out = tags_.data() + run.tags_from;
            for (auto t : run.part.tags) {
                t.key = run.to_whole[t.key];
                t.value = run.to_whole[t.value];
                *out++ = t;
            }
            run.part = Part{};
        });
        // A box whose object has no row leaves a gap at its run's end (a catalog edited by hand).
        std::size_t kept = 0;
        for (const auto& run : runs) {
            if (kept != run.from) std::move(objects_.begin() + static_cast<std::ptrdiff_t>(run.from),
                                            objects_.begin() + static_cast<std::ptrdiff_t>(run.from + run.count), objects_.begin() + static_cast<std::ptrdiff_t>(kept));
            kept += run.count;
        }
        objects_.resize(kept);
    }
    for (std::uint32_t i = 0; i < objects_.size(); ++i) file_in_cells(i);
}

// In the finer grid whose cells it spans 64 or fewer of; else in the list of large ones.
void CatalogIndex::file_in_cells(std::uint32_t i) {
    const auto& box = objects_[i].bbox;
    const auto file = [&](Cells& cells, double deg) {
        const auto r = cells_of(box, deg);
        if (r.count() > 64) return false;
        for (auto y = r.y0; y <= r.y1; ++y)
            for (auto x = r.x0; x <= r.x1; ++x) cells[cell(x, y)].push_back(i);
        return true;
    };
    if (!file(cells_, catalog_index_cell_deg) && !file(coarse_cells_, catalog_index_coarse_cell_deg)) large_.push_back(i);
}

} // namespace skyscript::pipeline
