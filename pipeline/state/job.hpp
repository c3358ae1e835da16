#pragma once
// One job of a build: a focus object, the source and pixel grid of its image, the tags
// and captions its meta and CSV row will carry, and where it stands.

#include "captions/caption_style.hpp"
#include "imagery/tile_grid.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skyscript::pipeline {

enum class JobStatus { planned, fetched, written, failed };
std::string_view status_name(JobStatus s) noexcept;
JobStatus parse_status(std::string_view s) noexcept; // the state DB's text; anything else is planned

// What a fetched or written job should have on disk.
struct JobFiles {
    std::int64_t job_id = 0;
    JobStatus status = JobStatus::fetched;
    int part = 1;
    std::string stem;
    std::int64_t image_bytes = -1; // the image's size when it was placed; -1: not recorded (an older version's job)
    std::int64_t meta_bytes = -1;  // the meta file's, when written
};

// A source that was asked for a job's tile and had no imagery there, and what it said.
struct TriedSource {
    std::string source; // alias
    std::string reason;
    bool operator==(const TriedSource&) const = default;
};

// The state DB's `tried` column: [[alias, reason], ...] (a reason is whatever a server
// said: JSON, not a separator). Unreadable text gives an empty list.
std::string tried_sources_text(const std::vector<TriedSource>& tried);
std::vector<TriedSource> parse_tried_sources(const std::string& text);
// The passes on of a job asking `source` now after `tried`: (from, to) for each source
// that had no imagery and the one asked after it (a job every source said no to ends on
// the last it tried).
std::vector<std::pair<std::string, std::string>> fallback_hops(const std::string& source, const std::vector<TriedSource>& tried);

struct Job {
    std::int64_t job_id = 0;      // plan order (0-based); decides the part folder
    std::int64_t fid = 0;         // the focus object's row in catalog.gpkg
    char osm_type = 'n';          // n, w, r
    std::int64_t osm_id = 0;
    char kind = 'n';              // n point, w line, a area
    std::string focus_tag;        // key=value
    std::string source;           // alias: the source asked now (and, once fetched, the one that served it)
    std::vector<std::string> fallbacks; // the other eligible sources, in the policy's order, not asked yet
    std::vector<TriedSource> tried;     // the sources asked before `source`, which had no imagery
    std::string id_part;          // stem before _SRC: n123, w123, a123 (a123r: see stem rule)
    int part = 1;                 // imagesK/ metaK/
    imagery::TileGrid grid;
    std::string tile_key;         // what the image depends on: source identity and pixel grid (tile_key.hpp)
    std::string center_tags;      // JSON object
    std::string surrounding_tags; // JSON array of objects, most prominent first
    std::string objects = "[]";   // JSON array: the focus and the named surroundings in the image's pixels (meta `objects`)
    // The captions of the styles that planned it, field -> text in registration order
    // (captions/caption_styles.hpp): a field is present when its style ran.
    captions::CaptionEntries captions;
    // Set by fetch and write.
    JobStatus status = JobStatus::planned;
    std::string reason;           // why it failed
    int attempts = 0;
    std::string stem;             // {id_part}_{SRC}_{yy}, once the acquisition year is known
    long long time_ms = 0;        // acquisition time (ms since 1970), 0 = only the year is known
    int year = 0;
    double valid_fraction = 0;
    std::string provenance;       // JSON object from the source (FetchedTile::provenance), "" for none
    // Set by polish: how its polished captions were made (model, prompt hash, each field's
    // verdict), JSON object; "" when it was not polished. The texts are caption entries.
    std::string polish;
    // The terms of its source, as the plan recorded them (read with the job, not stored in it).
    std::string licence, attribution;

    // The text of caption field `field`, "" when no style of the plan wrote it.
    const std::string& caption(std::string_view field) const {
        static const std::string none;
        for (const auto& e : captions)
            if (e.field == field) return e.text;
        return none;
    }
};

} // namespace skyscript::pipeline
