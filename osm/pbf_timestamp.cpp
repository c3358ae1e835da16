#include "osm/pbf_timestamp.hpp"

#include "osm/extractor.hpp"

#include <osmium/io/any_input.hpp>

#include <filesystem>

namespace skyscript::osm {

std::string pbf_timestamp(const std::string& path) {
    try {
        std::error_code ec;
        if (path.empty() || !std::filesystem::is_regular_file(path, ec)) return "";
        // Its format as the extract reads it: a PBF named without .pbf (/dev/stdin, a download's
        // temporary name) had no date, and the card and croissant.json lost "data as of".
        osmium::io::Reader reader{open_input_file(path), osmium::osm_entity_bits::nothing};
        const auto header = reader.header();
        reader.close();
        const auto t = header.get("osmosis_replication_timestamp");
        return t.empty() ? header.get("timestamp") : t;
    } catch (const std::exception&) {
        return "";
    }
}

} // namespace skyscript::osm
