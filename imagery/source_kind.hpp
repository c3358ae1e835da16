#pragma once
// A kind of imagery source (`kind = "..."` in a sources file): everything that differs
// from one kind to another is a method here, implemented once per kind in its own folder
// under imagery/sources/ and listed once in source_kinds.cpp. Nothing else asks which
// kind a source is: the TOML keys and their checks, how a source opens, what its images
// depend on (tile keys, the sources identity), what `sources --check` asks and how
// fetch-one explains a missing tile all come from here. docs/architecture.md walks
// through adding one.

#include "imagery/image_source.hpp"
#include "imagery/source_config.hpp"
#include "imagery/source_key_text.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyscript::imagery {

class SourceTable;

// What `sources` says of a source: usable or not, and why.
struct Usability {
    bool usable = false;
    std::string status; // shown in the table: "usable ..." or "not usable: why"
};
Usability usable(std::string why);
Usability not_usable(const std::string& why);

class SourceKind {
public:
    virtual ~SourceKind() = default;

    // `kind = "NAME"`; also the first part of tile keys and of the sources identity.
    virtual std::string_view name() const = 0;

    // --- The TOML table (parse_sources reads alias, kind, gsd, year, coverage, dates,
    // bands, stretch, licence, requests_per_second and max_in_flight in that order, then
    // calls parse).
    // The keys the kind takes besides alias, kind, gsd, year, coverage, dates and licence,
    // in the order a typo's suggestion prefers them.
    virtual std::vector<std::string_view> keys() const = 0;
    // True when the data tells the GSD, so `gsd` may be left out.
    virtual bool gsd_from_data() const { return false; }
    // True when `bands` are 1-based band numbers, false when they are band names.
    virtual bool numbered_bands() const { return false; }
    // Reads and checks the kind's own keys; `common` holds the keys read before.
    virtual std::shared_ptr<const SourceSettings> parse(const SourceTable& table, const SourceConfig& common) const = 0;
    // True when each image tells its acquisition year, so `year` may be left out.
    virtual bool tells_year() const { return false; }
    // Fills what the configuration leaves to the data (resolve_from_data).
    virtual void resolve_from_data(SourceConfig&) const {}

    // --- What the images depend on.
    // The kind's settings in the one layout every kind's tile keys and identities share
    // (source_key_text.hpp: stored keys stay byte for byte what they were).
    virtual SourceKeyFields key_fields(const SourceConfig& source) const = 0;
    // The source's part of a tile key (make_tile_key adds the grid): everything that
    // decides its pixels, secrets left out. Stored in state DBs and matched by --reuse.
    virtual std::string tile_key_part(const SourceConfig& source) const;
    // The settings that decide pixels and plan, as text to digest (sources_identity).
    std::string settings_identity(const SourceConfig& source) const;
    // The local file the pixels come from, named when it changes; nullopt for services and
    // remote data.
    virtual std::optional<std::string> local_file(const SourceConfig&) const { return std::nullopt; }
    // What a rebuild compares to know the local files the pixels come from are unchanged
    // (local_file_stamp.hpp): local_file's size and time by default; "" for services.
    virtual std::string data_stamp(const SourceConfig& source) const;

    // --- Use.
    // Whether the source can be used now; `check` (sources --check) also proves it over
    // the network or by opening its data.
    virtual Usability usability(const SourceConfig& source, bool check) const = 0;
    // Opens the source for fetching: checks what can be checked up front and throws
    // std::runtime_error naming the source otherwise.
    virtual std::unique_ptr<ImageSource> open(const SourceConfig& source, const ImageSourceOptions& options) const = 0;
    // fetch-one's message for a tile that failed (!tile.ok) or holds no data.
    virtual std::string explain_missing_tile(const SourceConfig& source, const FetchedTile& tile) const;
    // Why the source makes no use of a pixel setting a command gives it (fetch-one's "bands",
    // "stretch", "stretch tile", "resampling"), or nullopt when it uses it: one it ignores is
    // refused, not dropped (an xyz tile came back the same whatever they said).
    virtual std::optional<std::string> ignores(const SourceConfig&, std::string_view) const { return std::nullopt; }
};

// Every kind, in the order "kind must be ..." lists them (source_kinds.cpp).
const std::vector<const SourceKind*>& source_kinds();
// The kind named `name`, or nullptr.
const SourceKind* find_source_kind(std::string_view name);

} // namespace skyscript::imagery
