#include "imagery/source_kind.hpp"

#include "imagery/local_file_stamp.hpp"

namespace skyscript::imagery {

Usability usable(std::string why) { return {true, std::move(why)}; }
Usability not_usable(const std::string& why) { return {false, "not usable: " + why}; }

std::string SourceKind::tile_key_part(const SourceConfig& source) const { return source_tile_key_text(name(), source, key_fields(source)); }

std::string SourceKind::settings_identity(const SourceConfig& source) const { return source_identity_text(name(), source, key_fields(source)); }

std::string SourceKind::data_stamp(const SourceConfig& source) const {
    const auto file = local_file(source);
    return file ? local_file_stamp(*file) : "";
}

std::string SourceKind::explain_missing_tile(const SourceConfig& source, const FetchedTile& tile) const {
    const std::string name = "source " + source.alias;
    if (tile.ok) return name + ": no data in this tile";
    return tile.error.starts_with(name) ? tile.error : name + ": " + tile.error;
}

const SourceKind* find_source_kind(std::string_view name) {
    for (const auto* kind : source_kinds())
        if (kind->name() == name) return kind;
    return nullptr;
}

} // namespace skyscript::imagery
