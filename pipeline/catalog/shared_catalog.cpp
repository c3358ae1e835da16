#include "pipeline/catalog/shared_catalog.hpp"

#include "pipeline/catalog/catalog_reader.hpp"
#include "pipeline/common/build_dir.hpp"
#include "pipeline/common/placed_file.hpp"
#include "pipeline/common/tag_list_file.hpp"

#include <filesystem>

namespace skyscript::pipeline {

namespace fs = std::filesystem;

SharedCatalog place_shared_catalog(const std::string& catalog, const std::string& out_dir, const BuildOptions& options) {
    std::error_code ec;
    if (!fs::is_regular_file(catalog, ec)) throw std::runtime_error(catalog + ": --catalog: no such file (make it once with `skyscript-build extract`)");
    std::map<std::string, std::string> meta;
    try {
        meta = CatalogReader(catalog).meta();
    } catch (const std::exception& e) {
        throw std::runtime_error(catalog + ": --catalog: not a catalog made by `skyscript-build extract` (" + e.what() + ")");
    }
    const auto get = [&](const char* key) { const auto it = meta.find(key); return it == meta.end() ? std::string() : it->second; };
    if (get("generator").empty()) throw std::runtime_error(catalog + ": --catalog: not a catalog made by `skyscript-build extract`");
    const auto bytes = options.text("input-bytes");
    if (!bytes.empty() && !get("input_bytes").empty() && bytes != get("input_bytes"))
        throw std::runtime_error(catalog + ": --catalog was extracted from " + get("input") + " (" + get("input_bytes") + " bytes), not from " +
                                 options.text("input") + " (" + bytes + " bytes)");
    const auto tags = options.text("tags").empty() ? std::string("default") : options.text("tags");
    // By what the lists hold where the catalog says (a node's copy of the list is the list),
    // else by the name it was given.
    const bool same_tags = !get("tags_digest").empty() ? get("tags_digest") == tag_list_digest(load_tag_option(options.text("tags")))
                                                        : same_option_value(*find_option_row("tags"), get("tags"), tags);
    if (!same_tags)
        throw std::runtime_error(catalog + ": --catalog was extracted with tags " + get("tags") + "; give this build the same --tags (it asks " +
                                 tags + ")");
    SharedCatalog s;
    s.placed_at = BuildDir(out_dir).catalog();
    s.copied = place_file(std::filesystem::canonical(catalog).string(), s.placed_at) == Placement::copied; // the file a link names
    s.objects = get("objects").empty() ? 0 : std::stoll(get("objects"));
    return s;
}

} // namespace skyscript::pipeline
