#include "osm/extractor.hpp"

#include "osm/area_manager.hpp"
#include "osm/catalog_builder.hpp"
#include "osm/decoder_threads.hpp"
#include "osm/scratch_file.hpp"
#include "osm/sorted_pbf.hpp"
#include "osm/tag_list_guard.hpp"
#include "osm/way_workers.hpp"

#include <protozero/exception.hpp>
#include <osmium/handler/node_locations_for_ways.hpp>
#include <osmium/index/map/all.hpp>
#include <osmium/io/any_input.hpp>
#include <osmium/osm/object_comparisons.hpp>
#include <osmium/visitor.hpp>

#include <algorithm>
#include <array>
#include <optional>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <thread>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace skyscript::osm {

namespace {

using index_type = osmium::index::map::Map<osmium::unsigned_object_id_type, osmium::Location>;

// Objects out of id order a file may hold before it is refused as one to sort first (8 bytes
// each, 64 MB at most: the memory pre-flight does not count them).
constexpr std::size_t max_suspects = 8'000'000;

// Objects read at or below the largest id of their type before them, by type (node, way, relation).
using Suspects = std::array<std::vector<osmium::object_id_type>, 3>;

// One more read of a file not sorted: throws DuplicateObject for the first of `suspects` that
// the file holds twice.
void refuse_far_duplicates(const osmium::io::File& file, osmium::thread::Pool& pool, Suspects suspects) {
    std::array<std::vector<std::uint8_t>, 3> seen;
    for (std::size_t t = 0; t < 3; ++t) {
        auto& ids = suspects[t];
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        seen[t].assign(ids.size(), 0);
    }
    osmium::io::Reader reader{file, osmium::osm_entity_bits::nwr, osmium::io::read_meta::no, pool};
    while (const auto buffer = reader.read())
        for (const auto& object : buffer.select<osmium::OSMObject>()) {
            const auto t = osmium::item_type_to_nwr_index(object.type());
            const auto& ids = suspects[t];
            const auto it = std::lower_bound(ids.begin(), ids.end(), object.id());
            if (it == ids.end() || *it != object.id()) continue;
            if (++seen[t][static_cast<std::size_t>(it - ids.begin())] == 2) throw DuplicateObject(object.type(), object.id());
        }
    reader.close();
}

// Grows a dense index to every id up to `largest` in steps, reporting each: the same
// filling the index would do on the first large id, but visible.
void fill_dense_index(index_type& index, std::uint64_t largest, const std::function<void(const ExtractProgress&)>& on_progress) {
    constexpr std::uint64_t step = 64ULL << 20; // ids: 512 MB of index
    ExtractProgress p;
    p.phase = ExtractProgress::Phase::node_index;
    p.total = dense_index_bytes(largest);
    for (std::uint64_t ids = std::min(step, largest + 1);; ids = std::min(ids + step, largest + 1)) {
        index.reserve(ids);
        p.done = dense_index_bytes(ids - 1);
        if (on_progress) on_progress(p);
        if (ids == largest + 1) break;
    }
}

// The planet's index made ready before the read: a dense file array of every id up to
// `largest`, each "no location", written by `threads` threads at once (for the planet ~100 GB
// of pages the kernel must make: a serial pass on the reading thread when libosmium's
// reserve() filled it), its disk reserved first, so that a --tmp-dir too small says so
// instead of a SIGBUS. One slot more, after the last, holds a location that is not "none":
// libosmium's DenseFileArray takes a file's length as its size only down to its last slot
// that is not none (walking back over all of them). Lookups above `largest` must not reach
// the index (NodeLocations::largest).
void prefill_dense_index(int fd, std::uint64_t largest, int threads, const std::string& dir,
                         const std::function<void(const ExtractProgress&)>& on_progress) {
    // At least libosmium's smallest mapping, which it would otherwise grow to itself (and name
    // no folder when the disk is full). Slots [0, none) hold "no location".
    const std::uint64_t slots = std::max<std::uint64_t>(largest + 2, osmium::detail::mmap_vector_size_increment);
    const std::uint64_t bytes = slots * sizeof(osmium::Location), none = slots - 1;
    if (const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes)); rc != 0)
        throw InputError(dir + ": no room for the node index (" + std::to_string(bytes >> 20) + " MB of 8 bytes x the largest node id): " +
                         std::strerror(rc) + "; use --tmp-dir on a larger disk");
    void* map = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) throw InputError(dir + ": cannot map the node index (" + std::strerror(errno) + ")");
    auto* slot = static_cast<osmium::Location*>(map);
    slot[none] = osmium::Location{osmium::Location::undefined_coordinate, 0}; // not none, and not valid()
    constexpr std::uint64_t chunk = 16ULL << 20; // slots: 128 MB
    const std::uint64_t chunks = (none + chunk - 1) / chunk;
    std::atomic<std::uint64_t> next{0}, filled{0};
    auto fill = [&] {
        for (std::uint64_t c; (c = next.fetch_add(1)) < chunks;) {
            const std::uint64_t from = c * chunk, to = std::min(none, from + chunk);
            std::fill(slot + from, slot + to, osmium::Location{});
            filled.fetch_add(to - from);
        }
    };
    // Filled by threads of their own, not this one: the reading thread's time is what more
    // cores do not shrink.
    std::vector<std::thread> fillers;
    for (int i = 0; i < threads && static_cast<std::uint64_t>(i) < chunks; ++i) fillers.emplace_back(fill);
    ExtractProgress p; // this thread only reports
    p.phase = ExtractProgress::Phase::node_index;
    p.total = none * sizeof(osmium::Location);
    while (filled.load() < none) {
        p.done = filled.load() * sizeof(osmium::Location);
        if (on_progress) on_progress(p);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (auto& t : fillers) t.join();
    p.done = p.total;
    if (on_progress) on_progress(p);
    ::munmap(map, bytes);
}

// The first 64 bytes of the file (fewer when it is shorter, none when it cannot be read): what
// tells its format whatever its name says.
std::string file_head(const std::string& path) {
    char head[64] = {};
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "";
    const auto n = ::read(fd, head, sizeof head);
    ::close(fd);
    return std::string(head, n > 0 ? static_cast<std::size_t>(n) : 0);
}

// Whether a file's head is XML's (a BOM, blanks, then `<`): a PBF begins with the 4-byte size
// of its first header, never with these bytes.
bool starts_like_xml(std::string_view h) {
    if (h.starts_with("\xEF\xBB\xBF")) h.remove_prefix(3);
    while (!h.empty() && (h.front() == ' ' || h.front() == '\n' || h.front() == '\r' || h.front() == '\t')) h.remove_prefix(1);
    return h.starts_with("<?xml") || h.starts_with("<osm");
}

// Whether a file's head is an OSM PBF's: the 4-byte size of its first BlobHeader, whose first
// field is the type "OSMHeader" (0x0A 0x09 "OSMHeader").
bool starts_like_pbf(std::string_view h) { return h.size() >= 15 && h.substr(4, 11) == std::string_view("\x0A\x09OSMHeader", 11); }

} // namespace

// The index and the scratch file it may map (declared first: it outlives the index).
class NodeLocations {
public:
    ScratchFile file;
    std::unique_ptr<index_type> index;
    // Node ids above this have no location (prefill_dense_index's index holds one slot more).
    std::uint64_t largest = std::numeric_limits<std::uint64_t>::max();
};

void NodeLocationsDeleter::operator()(NodeLocations* p) const noexcept { delete p; }

osmium::io::File open_input_file(const std::string& path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) throw InputError(path + ": no such file");
    if (std::filesystem::is_directory(status)) throw InputError(path + ": is a directory, expected an OSM PBF file");
    // A pipe (`<(curl ...)`) or a device: the extract reads its input twice, and a rerun checks it again.
    if (!std::filesystem::is_regular_file(status)) throw InputError(path + ": is a pipe or a device, not a file (the extract reads it twice): save it to a file");
    if (::access(path.c_str(), R_OK) != 0) throw InputError(path + ": not readable (permission denied)");
    if (std::filesystem::file_size(path, ec) == 0) throw InputError(path + ": empty file, expected an OSM PBF file");
    osmium::io::File file{path};
    if (file.format() == osmium::io::file_format::unknown) file.set_format(osmium::io::file_format::pbf);
    const auto head = file_head(path);
    if (file.format() == osmium::io::file_format::pbf && starts_like_xml(head))
        throw InputError(path + ": is OSM XML, not PBF as its name says; convert it: osmium cat " + path + " -o NEW.osm.pbf");
    // The other way round (red-team round 36: "XML parsing error at line 1, column 0").
    if (file.format() == osmium::io::file_format::xml && file.compression() == osmium::io::file_compression::none && starts_like_pbf(head))
        throw InputError(path + ": is an OSM PBF, not XML as its name says; give it a name ending in .osm.pbf");
    return file;
}

std::uint64_t node_index_bytes(const std::string& index, std::uint64_t input_bytes, std::uint64_t largest_node_id) {
    const std::uint64_t sparse = 2 * input_bytes;
    // libosmium's file-backed sparse array grows its file by a million 16-byte entries at a
    // time, from 16 MiB: the estimate had said "about 1 MB" for Monaco, which needs 16-32 MiB.
    if (index == "sparse_file_array") return sparse + (32ULL << 20);
    if (index == "dense_file_array") return largest_node_id ? dense_index_bytes(largest_node_id) : sparse;
    return largest_node_id ? std::min(sparse, dense_index_bytes(largest_node_id)) : sparse; // flex_mem
}

std::uint64_t extract_memory_bytes(const std::string& index, std::uint64_t input_bytes, std::uint64_t largest_node_id) {
    const std::uint64_t work = (128ULL << 20) + input_bytes / 8;
    return work + (is_file_backed_index(index) ? 0 : node_index_bytes("flex_mem", input_bytes, largest_node_id));
}

std::string choose_node_index(std::uint64_t input_bytes, std::uint64_t largest_node_id, std::uint64_t usable_memory) {
    if (input_bytes < planet_sized_bytes && extract_memory_bytes("flex_mem", input_bytes, largest_node_id) <= usable_memory)
        return "flex_mem";
    return largest_node_id && dense_index_bytes(largest_node_id) > 2 * input_bytes ? "sparse_file_array" : "dense_file_array";
}

bool is_known_node_index(const std::string& name) {
    return name == "auto" || name == "flex_mem" || name == "sparse_file_array" || name == "dense_file_array";
}

ExtractStats extract_catalog(const ExtractOptions& options, const tags::TagMatcher& matcher, const tags::HiddenRules& hidden,
                             RowSink& sink) {
    const auto file = open_input_file(options.input);
    const std::uint64_t size = std::filesystem::file_size(options.input);
    const auto modified = std::filesystem::last_write_time(options.input);
    // A file cut or rewritten while it was read (a download started again over it) reads as
    // one that ends early, whose catalog would pass for the whole, or as a broken file: said
    // as what it is, after a clean end and after an error alike.
    const auto changed = [&] {
        std::error_code ec;
        return std::filesystem::file_size(options.input, ec) != size || ec || std::filesystem::last_write_time(options.input, ec) != modified || ec;
    };
    const auto changed_error = [&] {
        return InputError(options.input + ": changed while it was read (its size or time is not what it was when the extract began); "
                                          "run the extract again once it is complete");
    };
    const auto input_error = [&](const std::string& what) { return changed() ? changed_error() : InputError(what); };
    ExtractStats stats;
    ExtractProgress progress;
    osmium::thread::Pool pool{decoder_threads(options.threads)}; // the blobs' decoders, for every read below
    // Pass 1 only decodes relations: at most about a fifth of pass 2's time (a file read
    // whole), much less for a sorted file, whose offsets start at its relation blobs near
    // the end. Weighting it so keeps the ETA from promising too much at the start.
    using Phase = ExtractProgress::Phase;
    auto report = [&](Phase phase, std::uint64_t offset) {
        if (!options.on_progress) return;
        progress.phase = phase;
        progress.total = size + size / 5;
        progress.done = phase == Phase::relations ? offset / 5 : size / 5 + offset;
        progress.objects = stats.kept();
        options.on_progress(progress);
    };

    const std::string index_name = options.node_index == "auto" ? choose_node_index(size, options.largest_node_id) : options.node_index;
    ObjectSelection* const only = options.only;

    // An object twice in a row (DuplicateObject): checked where the reading thread meets every
    // object anyway. Twice but not in a row (a file not sorted: extracts or Overpass answers
    // joined) the second one comes at or below the largest id of its type read before it: those
    // are kept as suspects and, once the read is done, counted in one more read of the file
    // (only a file not sorted pays it). The member ways of multipolygons are checked as they
    // come too (AreaManager): a way twice there corrupts memory before the end.
    struct Previous {
        osmium::item_type type = osmium::item_type::undefined;
        osmium::object_id_type id = 0;
    };
    struct {
        std::array<std::optional<osmium::object_id_type>, 3> largest; // node, way, relation: in osmium::id_order
        Suspects ids;
        std::size_t count = 0;
    } suspects;
    // Whether the object comes after the one before it in id order (or is the first of its type).
    const auto once = [&suspects, &options](Previous& previous, const osmium::OSMObject& object) {
        // Ids no published OSM file holds: a negative one (an object JOSM saved before upload) had
        // been dropped, its ways blamed on "nodes missing from the input"; a way's or relation's
        // of 2^62 or more overflowed libosmium's area id (id x 2) into a negative row id.
        if (object.id() < 0 || (object.type() != osmium::item_type::node && object.id() >= (osmium::object_id_type{1} << 62)))
            throw InputError(options.input + ": " + osmium::item_type_to_name(object.type()) + " " + std::to_string(object.id()) + ": " +
                             (object.id() < 0 ? "a negative id (an object not uploaded yet, as JOSM saves it)" : "an id of 2^62 or more") +
                             "; number the file's objects first: osmium renumber " + options.input + " -o renumbered.osm.pbf");
        const bool same_type = object.type() == previous.type;
        if (same_type && object.id() == previous.id) throw DuplicateObject(object.type(), object.id());
        const bool ordered = !same_type || osmium::id_order{}(previous.id, object.id());
        previous = {object.type(), object.id()};
        const auto t = osmium::item_type_to_nwr_index(object.type());
        auto& largest = suspects.largest[t];
        if (!largest || osmium::id_order{}(*largest, object.id())) largest = object.id();
        else if (++suspects.count <= max_suspects) suspects.ids[t].push_back(object.id());
        else throw InputError(options.input + ": more than " + std::to_string(max_suspects) + " objects out of id order (each checked for a copy elsewhere " +
                              "in the file); sort it first: osmium sort " + options.input + " -o sorted.osm.pbf");
        return ordered;
    };

    try {
        {
            // A history file holds every version of each object, deleted ones too: the catalog would hold them all.
            osmium::io::Reader header{file, osmium::osm_entity_bits::nothing, pool}; // not libosmium's default pool: a thread a core
            const bool history = file.has_multiple_object_versions() || header.header().has_multiple_object_versions();
            header.close();
            if (history)
                throw InputError(options.input + ": a history file (every version of each object, deleted ones too); take a date's snapshot first: " +
                                 "osmium time-filter " + options.input + " -o snapshot.osm.pbf");
        }
        AreaManager areas{matcher, only};
        report(Phase::relations, 0);
        Previous previous_relation;
        read_relations(file, pool, [&](const osmium::memory::Buffer& buffer, std::uint64_t offset) {
            for (const auto& rel : buffer.select<osmium::Relation>()) {
                (void)once(previous_relation, rel);
                ++stats.relations_read;
                areas.relation(rel);
            }
            report(Phase::relations, offset);
        });
        areas.prepare_for_lookup();
        if (only) only->sort_member_ways();

        // A second read takes the first one's index, complete and sorted for lookups.
        FirstRead* const first = options.second_of;
        const bool reuse = first != nullptr;
        std::unique_ptr<NodeLocations, NodeLocationsDeleter> own;
        NodeLocations& store = reuse ? *first->locations : *(own = std::unique_ptr<NodeLocations, NodeLocationsDeleter>(new NodeLocations));
        // The planet's index, a dense file array made ready for every id up to the largest
        // before the read: each worker then stores its own pieces' node locations (distinct slots
        // of a mapping that no longer grows, so no lock) and the reading thread only waits for
        // them all before the first ways.
        const int threads = std::max(1, options.threads);
        const bool parallel_locations = !reuse && threads > 1 && index_name == "dense_file_array" && options.largest_node_id > 0;
        if (!reuse) {
            if (is_file_backed_index(index_name)) {
                store.file.open_in(options.scratch_dir);
                if (parallel_locations) {
                    prefill_dense_index(store.file.fd, options.largest_node_id, threads, options.scratch_dir, options.on_progress);
                    store.largest = options.largest_node_id;
                }
                if (index_name == "dense_file_array") store.index = std::make_unique<osmium::index::map::DenseFileArray<osmium::unsigned_object_id_type, osmium::Location>>(store.file.fd);
                else store.index = std::make_unique<osmium::index::map::SparseFileArray<osmium::unsigned_object_id_type, osmium::Location>>(store.file.fd);
            } else {
                store.index = osmium::index::MapFactory<osmium::unsigned_object_id_type, osmium::Location>::instance().create_map(index_name);
            }
            if (options.largest_node_id && index_name == "dense_file_array" && !parallel_locations) fill_dense_index(*store.index, options.largest_node_id, options.on_progress);
        }
        std::unique_ptr<RowSpill> points; // a first read's point rows, for the second
        if (options.keep_for_second) points = std::make_unique<RowSpill>(options.scratch_dir);
        osmium::handler::NodeLocationsForWays<index_type> locations{*store.index};
        locations.ignore_errors(); // missing nodes are counted per way, not fatal

        // Node locations, relation areas and the order of rows on this thread; the rows of each
        // buffer's nodes and ways on `threads` workers, each with its own builder (and region
        // copy: GEOS contexts are not shared between threads).
        std::vector<SpatialFilter> regions;
        std::vector<std::unique_ptr<CatalogBuilder>> builders;
        if (options.region)
            for (int i = 0; i < threads; ++i) regions.push_back(options.region->copy());
        for (int i = 0; i < threads; ++i)
            builders.push_back(std::make_unique<CatalogBuilder>(matcher, hidden, options.region ? &regions[static_cast<std::size_t>(i)] : nullptr));
        CatalogBuilder reading{matcher, hidden, options.region};
        RowSequencer sequencer{sink, stats, only};
        MadeRows relation_rows;
        reading.output(relation_rows);
        auto& second_pass = areas.handler([&reading](osmium::memory::Buffer&& out) { osmium::apply(out, reading); });
        // Every node here passed once() on the reading thread first, which refuses negative ids.
        const auto store_location = [&](const osmium::Node& node) {
            const auto id = static_cast<osmium::unsigned_object_id_type>(node.id());
            if (id > options.largest_node_id)
                throw UnsortedInput("node " + std::to_string(id) + " comes before the last node block, whose largest id is " +
                                    std::to_string(options.largest_node_id) + "; sort it first: osmium sort INPUT -o sorted.osm.pbf");
            store.index->set(id, node.location());
        };
        const auto make_rows = [&](WayPiece& piece, int worker) {
            auto& builder = *builders[static_cast<std::size_t>(worker)];
            builder.output(piece.made);
            // Here rather than on the reading thread, which touches no tag before the piece is done.
            if (piece.guard_tags) piece.made.stats.unreadable_tags += guard_tag_lists(piece.buffer);
            if (piece.store_locations)
                for (const auto& node : piece.buffer.select<osmium::Node>()) store_location(node);
            for (const auto& node : piece.buffer.select<osmium::Node>())
                if (!only || (!node.tags().empty() && only->node(node.id()))) builder.node(node);
            osmium::memory::Buffer area_buffer{1 << 16, osmium::memory::Buffer::auto_grow::yes};
            for (auto& way : piece.buffer.select<osmium::Way>()) {
                // A second read: the selected ways, and the selected relations' members (their
                // locations for the assembly on the reading thread).
                const bool row = !only || only->way(way.id());
                if (!row && !only->member_way(way.id())) continue;
                for (auto& node_ref : way.nodes()) {
                    // A file with locations on its ways (osmium add-locations-to-ways, which drops
                    // untagged nodes by default) carries each one: taken as it is, not looked up.
                    if (node_ref.location().valid()) continue;
                    const auto ref = node_ref.ref();
                    const bool beyond = ref > 0 && static_cast<std::uint64_t>(ref) > store.largest; // no node has it
                    node_ref.set_location(beyond ? osmium::Location{} : locations.get_node_location(ref));
                }
                if (!row) continue;
                builder.way(way);
                switch (assemble_area_way(way, matcher, area_buffer)) {
                    case AreaWay::not_area: break;
                    case AreaWay::failed: ++piece.made.stats.invalid_areas; break;
                    case AreaWay::assembled:
                        for (const auto& area : area_buffer.select<osmium::Area>()) builder.area(area);
                        break;
                }
                area_buffer.clear(); // whatever a failed assembly left
            }
            // The rows in the sink's own form, here on the worker (not when a second read takes
            // this read's point rows as they are).
            if (!options.keep_for_second)
                for (auto& row : piece.made.rows) sink.prepare(row);
            // Freed here: only the relations (in order, on the reading thread) still read a buffer of ways.
            if (!piece.ways) piece.buffer = osmium::memory::Buffer{};
        };
        // In reading order: the piece's rows, then its member ways handed to the relations
        // (on this thread: the relations manager sees every way in order) and the rows of
        // the multipolygons they complete.
        const auto in_order = [&](WayPiece& piece) {
            if (points)
                for (const auto& row : piece.made.rows)
                    if (row.osm_type == 'n') points->add(row);
            sequencer.take(piece.made);
            if (piece.ways) {
                osmium::apply(piece.buffer, second_pass);
                sequencer.take(relation_rows);
            }
            report(Phase::nodes_and_ways, piece.offset);
        };
        WayWorkers workers{threads, make_rows, in_order};

        bool sorted_for_ways = false;
        Previous previous;
        const auto read = [&](osmium::memory::Buffer&& buffer, std::uint64_t offset, bool guard_tags) {
            auto piece = std::make_unique<WayPiece>();
            piece->guard_tags = guard_tags;
            piece->offset = offset;
            bool objects = false;
            const bool was_sorted_for_ways = sorted_for_ways;
            // One pass over the objects (it touches every one: the reading thread's largest loop):
            // their kinds and order, and, for an index this thread fills, the node locations.
            const bool index_here = !reuse && !parallel_locations;
            for (auto& object : buffer.select<osmium::OSMObject>()) {
                objects = true;
                if (!once(previous, object) && object.type() == osmium::item_type::way) areas.check_member_ways();
                if (object.type() == osmium::item_type::node) {
                    if (sorted_for_ways) throw UnsortedInput("nodes come after ways; sort it first: osmium sort INPUT -o sorted.osm.pbf");
                    // Only the location here (the index is complete before any way is read);
                    // the node's row is made with the buffer's on a worker.
                    if (index_here) locations.node(static_cast<const osmium::Node&>(object));
                } else if (object.type() == osmium::item_type::way) {
                    piece->ways = true;
                    // The index sorted once, here, before any worker reads it.
                    if (index_here && !sorted_for_ways) {
                        // NodeLocationsForWays::way() sorts only when it sets this way's locations:
                        // those the file carries on it are put back (the workers keep them).
                        auto& way = static_cast<osmium::Way&>(object);
                        std::vector<osmium::Location> carried;
                        for (const auto& node_ref : way.nodes()) carried.push_back(node_ref.location());
                        locations.way(way);
                        auto it = carried.begin();
                        for (auto& node_ref : way.nodes())
                            if (const auto at = *it++; at.valid()) node_ref.set_location(at);
                    }
                    sorted_for_ways = true;
                }
            }
            // The workers store the locations of the nodes before the first ways; those in the
            // buffer with the first ways are stored here, once every earlier piece is done.
            const bool first_ways = parallel_locations && !was_sorted_for_ways && piece->ways;
            piece->store_locations = parallel_locations && !was_sorted_for_ways && !first_ways;
            if (first_ways) {
                workers.finish(); // every node location stored before a way is read
                for (const auto& node : buffer.select<osmium::Node>()) store_location(node);
            }
            if (objects) piece->buffer = std::move(buffer);
            workers.push(std::move(piece));
        };
        report(Phase::nodes_and_ways, 0);
        // A second read of a PBF: the first read's point rows (those selected), then the ways
        // alone (the first read found the file sorted: nodes first).
        bool points_fed = false;
        const auto feed_points = [&] {
            if (points_fed) return;
            points_fed = true;
            if (only) sequencer.take_spilled(*first->points, threads, [&](const CatalogRow& row) { return only->node(row.osm_id); });
            else sequencer.take_spilled(*first->points, threads);
        };
        const bool ways_only = reuse && first->points && read_ways_of_sorted(file, pool, [&](osmium::memory::Buffer&& buffer, std::uint64_t offset) {
            feed_points();
            read(std::move(buffer), offset, false); // tag lists made safe by the blob reader (its count is the first read's)
        });
        if (ways_only) feed_points(); // a file without ways
        if (!ways_only) {
            osmium::io::Reader reader{file, osmium::osm_entity_bits::node | osmium::osm_entity_bits::way, osmium::io::read_meta::no, pool};
            while (auto buffer = reader.read()) read(std::move(buffer), reader.offset(), true);
            const auto unread = unread_part(file, reader.offset(), size);
            reader.close();
            if (unread) throw InputError(options.input + ": " + *unread);
        }
        workers.finish();
        second_pass.flush();
        sequencer.take(relation_rows);
        sequencer.finish();
        areas.for_each_incomplete_relation([&](const auto&) { ++stats.incomplete_relations; });
        stats.invalid_areas += areas.failed();
        if (!reuse && suspects.count > 0) refuse_far_duplicates(file, pool, std::move(suspects.ids)); // a second read: the first one did
        if (options.keep_for_second) *options.keep_for_second = FirstRead{std::move(own), std::move(points)};
    } catch (const InputError&) {
        if (changed()) throw changed_error();
        throw;
    } catch (const InputChanged& e) {
        throw input_error(options.input + ": changed between the two reads of sampling in the read (" + e.what() + "); run the extract again");
    } catch (const DuplicateObject& e) {
        throw input_error(options.input + ": " + e.what());
    } catch (const UnsortedInput& e) {
        throw input_error(options.input + ": not sorted by type (" + e.what() + ")");
    } catch (const osmium::out_of_order_error& e) {
        throw input_error(options.input + ": not sorted (" + e.what() + "); sort it first: osmium sort INPUT -o sorted.osm.pbf");
    } catch (const osmium::map_factory_error& e) {
        throw input_error(std::string("--node-index: ") + e.what());
    } catch (const std::system_error& e) {
        // The file-backed node index growing on a full disk is the scratch folder's, not the input's.
        if (e.code().value() == ENOSPC && is_file_backed_index(index_name))
            throw InputError(options.scratch_dir + ": no room left in the extract's scratch folder (--tmp-dir; OUT when not given) for the node index (--node-index " +
                             index_name + ") and its scratch rows: " + e.what() + "; give --tmp-dir a disk with more room");
        throw input_error(options.input + ": " + e.what());
    } catch (const osmium::pbf_error& e) {
        throw input_error(options.input + ": not a valid OSM PBF file (" + e.what() + ")");
    } catch (const protozero::exception& e) { // libosmium's PBF parser lets protozero's own errors out
        throw input_error(options.input + ": not a valid OSM PBF file (" + e.what() + ")");
    } catch (const osmium::format_version_error& e) {
        throw input_error(options.input + ": unsupported OSM file version (" + e.what() + ")");
    } catch (const osmium::gzip_error& e) {
        throw input_error(options.input + ": corrupt compressed data (" + e.what() + ")");
    } catch (const osmium::io_error& e) {
        throw input_error(options.input + ": not a readable OSM file (" + e.what() + ")");
    } catch (const std::length_error& e) {
        // libosmium's decoder refuses a string longer than OSM allows (255 characters) for the whole file.
        throw input_error(options.input + ": " + e.what() + " (OSM allows 255 characters; libosmium refuses the file)");
    }
    if (changed()) throw changed_error();
    return stats;
}

} // namespace skyscript::osm
