#include "osm/tag_stats.hpp"

#include "osm/area_manager.hpp"
#include "osm/decoder_threads.hpp"
#include "osm/extractor.hpp"
#include "osm/sorted_pbf.hpp"
#include "osm/tag_list_guard.hpp"

#include <protozero/exception.hpp>
#include <osmium/io/any_input.hpp>

#include <algorithm>
#include <filesystem>
#include <unordered_map>

namespace skyscript::osm {

namespace {

std::vector<std::pair<std::string, std::uint64_t>> most_frequent(std::unordered_map<std::string, std::uint64_t>&& counts, std::size_t top) {
    std::vector<std::pair<std::string, std::uint64_t>> v(std::make_move_iterator(counts.begin()), std::make_move_iterator(counts.end()));
    const auto cut = std::min(top, v.size());
    std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(cut), v.end(),
                      [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
    v.resize(cut);
    return v;
}

} // namespace

TagStats collect_tag_stats(const std::string& input, const tags::TagMatcher& matcher, const tags::HiddenRules& hidden, std::size_t top, int cores,
                           const std::function<void(std::uint64_t, std::uint64_t)>& on_progress) {
    const auto file = open_input_file(input);
    const auto size = std::filesystem::file_size(input);
    TagStats stats;
    stats.entry_objects.assign(matcher.entries().size(), 0);
    std::unordered_map<std::string, std::uint64_t> unknown_tags, unknown_keys;
    std::unordered_map<std::string, bool> key_known; // cache: is the key listed or denied?
    std::vector<const tags::TagEntry*> seen;
    std::string scratch;
    try {
        osmium::thread::Pool pool{decoder_threads(cores)};
        osmium::io::Reader reader{file, osmium::osm_entity_bits::nwr, osmium::io::read_meta::no, pool};
        while (auto buffer = reader.read()) {
            stats.unreadable_tags += guard_tag_lists(buffer);
            for (const auto& obj : buffer.select<osmium::OSMObject>()) {
                ++stats.objects;
                if (obj.tags().empty()) continue;
                ++stats.tagged_objects;
                seen.clear();
                bool candidate = false;
                for (const auto& tag : obj.tags()) {
                    if (!*tag.key()) continue; // a blanked list's (tag_list_guard.hpp): no key to count
                    if (const auto* e = matcher.find(tag.key(), tag.value())) {
                        if (std::find(seen.begin(), seen.end(), e) == seen.end()) seen.push_back(e);
                        candidate |= e->role == tags::Role::feature;
                        continue;
                    }
                    scratch = tag.key();
                    auto it = key_known.find(scratch);
                    if (it == key_known.end()) {
                        bool known = matcher.denied(scratch);
                        for (const auto& e : matcher.entries()) known |= e.key == scratch;
                        it = key_known.emplace(scratch, known).first;
                    }
                    if (it->second) continue;
                    ++unknown_keys[scratch];
                    scratch += '=';
                    scratch += tag.value();
                    ++unknown_tags[scratch];
                }
                for (const auto* e : seen) ++stats.entry_objects[e->order];
                stats.candidate_objects += candidate;
                if (candidate) {
                    const auto kind = obj.type() == osmium::item_type::node ? tags::ObjectKind::point
                                      : obj.type() == osmium::item_type::way && !is_area_way(static_cast<const osmium::Way&>(obj))
                                          ? tags::ObjectKind::line
                                          : tags::ObjectKind::area;
                    stats.hidden_candidates += hidden.find(obj.tags(), kind) != nullptr;
                }
            }
            if (on_progress) on_progress(reader.offset(), size);
        }
        const auto unread = unread_part(file, reader.offset(), size);
        reader.close();
        if (unread) throw InputError(input + ": " + *unread);
    } catch (const osmium::pbf_error& e) {
        throw InputError(input + ": not a valid OSM PBF file (" + e.what() + ")");
    } catch (const protozero::exception& e) { // libosmium's PBF parser lets protozero's own errors out
        throw InputError(input + ": not a valid OSM PBF file (" + e.what() + ")");
    } catch (const osmium::io_error& e) {
        throw InputError(input + ": not a readable OSM file (" + e.what() + ")");
    } catch (const std::length_error& e) {
        throw InputError(input + ": " + e.what() + " (OSM allows 255 characters; libosmium refuses the file)");
    }
    stats.unknown_tags = most_frequent(std::move(unknown_tags), top);
    stats.unknown_keys = most_frequent(std::move(unknown_keys), top);
    return stats;
}

} // namespace skyscript::osm
