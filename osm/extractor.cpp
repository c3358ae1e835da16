#include "extractor.hpp"

#include "area_manager.hpp"
#include "catalog_builder.hpp"

#include <osmium/handler/node_locations_for_ways.hpp>
#include <osmium/index/map/all.hpp>
#include <osmium/io/any_input.hpp>
#include <osmium/visitor.hpp>

#include <filesystem>
#include <system_error>
#include <unistd.h>

namespace skyscript::osm {

namespace {

using index_type = osmium::index::map::Map<osmium::unsigned_object_id_type, osmium::Location>;
constexpr std::uint64_t planet_sized_bytes = 8ULL << 30;

} // namespace

osmium::io::File open_input_file(const std::string& path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) throw InputError(path + ": no such file");
    if (std::filesystem::is_directory(status)) throw InputError(path + ": is a directory, expected an OSM PBF file");
    if (::access(path.c_str(), R_OK) != 0) throw InputError(path + ": not readable (permission denied)");
    if (std::filesystem::file_size(path, ec) == 0) throw InputError(path + ": empty file, expected an OSM PBF file");
    osmium::io::File file{path};
    if (file.format() == osmium::io::file_format::unknown) file.set_format(osmium::io::file_format::pbf);
    return file;
}

std::string choose_node_index(std::uint64_t input_bytes) {
    return input_bytes >= planet_sized_bytes ? "dense_file_array" : "flex_mem";
}

bool is_known_node_index(const std::string& name) {
    return name == "auto" || name == "flex_mem" || name == "sparse_file_array" || name == "dense_file_array" ||
           name == "sparse_mem_array" || name == "dense_mmap_array";
}

ExtractStats extract_catalog(const ExtractOptions& options, const tags::TagMatcher& matcher, RowSink& sink) {
    const auto file = open_input_file(options.input);
    const std::uint64_t size = std::filesystem::file_size(options.input);
    ExtractStats stats;
    ExtractProgress progress;
    // Pass 1 only decodes relations: about a fifth of pass 2's time. Weighting it so
    // keeps the ETA honest from the start.
    progress.bytes_total = size + size / 5;
    auto report = [&](int pass, std::uint64_t offset) {
        if (!options.on_progress) return;
        progress.pass = pass;
        progress.bytes_done = pass == 1 ? offset / 5 : size / 5 + offset;
        progress.objects = stats.kept();
        options.on_progress(progress);
    };

    std::string index_name = options.node_index == "auto" ? choose_node_index(size) : options.node_index;
    std::string index_file;
    if (index_name.ends_with("_file_array")) {
        index_file = (std::filesystem::path(options.scratch_dir) / ("node-index-" + std::to_string(::getpid()) + ".tmp")).string();
        index_name += "," + index_file;
    }
    struct RemoveOnExit {
        std::string path;
        ~RemoveOnExit() { if (!path.empty()) std::filesystem::remove(path); }
    } remove_index{index_file};

    try {
        AreaManager areas{matcher};
        {
            osmium::io::Reader reader{file, osmium::osm_entity_bits::relation, osmium::io::read_meta::no};
            while (auto buffer = reader.read()) {
                for (const auto& rel : buffer.select<osmium::Relation>()) {
                    ++stats.relations_read;
                    areas.relation(rel);
                }
                report(1, reader.offset());
            }
            reader.close();
        }
        areas.prepare_for_lookup();

        const auto& factory = osmium::index::MapFactory<osmium::unsigned_object_id_type, osmium::Location>::instance();
        std::unique_ptr<index_type> index = factory.create_map(index_name);
        osmium::handler::NodeLocationsForWays<index_type> locations{*index};
        locations.ignore_errors(); // missing nodes are counted per way, not fatal

        CatalogBuilder builder{matcher, options.region, sink, stats};
        osmium::io::Reader reader{file, osmium::osm_entity_bits::node | osmium::osm_entity_bits::way,
                                  osmium::io::read_meta::no};
        auto& second_pass = areas.handler([&builder](osmium::memory::Buffer&& out) { osmium::apply(out, builder); });
        while (auto buffer = reader.read()) {
            osmium::apply(buffer, locations, builder, second_pass);
            report(2, reader.offset());
        }
        reader.close();
        second_pass.flush();
        builder.finish();
        areas.for_each_incomplete_relation([&](const auto&) { ++stats.incomplete_relations; });
        stats.invalid_areas = areas.failed();
    } catch (const UnsortedInput& e) {
        throw InputError(options.input + ": not sorted by type (" + e.what() + ")");
    } catch (const osmium::out_of_order_error& e) {
        throw InputError(options.input + ": not sorted (" + e.what() + "); sort it first: osmium sort INPUT -o sorted.osm.pbf");
    } catch (const osmium::map_factory_error& e) {
        throw InputError(std::string("--node-index: ") + e.what());
    } catch (const std::system_error& e) {
        throw InputError(options.input + ": " + e.what());
    } catch (const osmium::pbf_error& e) {
        throw InputError(options.input + ": not a valid OSM PBF file (" + e.what() + ")");
    } catch (const osmium::format_version_error& e) {
        throw InputError(options.input + ": unsupported OSM file version (" + e.what() + ")");
    } catch (const osmium::gzip_error& e) {
        throw InputError(options.input + ": corrupt compressed data (" + e.what() + ")");
    } catch (const osmium::io_error& e) {
        throw InputError(options.input + ": not a readable OSM file (" + e.what() + ")");
    }
    return stats;
}

} // namespace skyscript::osm
