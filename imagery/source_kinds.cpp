// The registry of source kinds: one line per kind. A kind's folder under imagery/sources/
// implements it (source_kind.hpp); listing it here makes `kind = "NAME"` known.

#include "imagery/sources/earthengine/earthengine_kind.hpp"
#include "imagery/sources/gdal/gdal_kind.hpp"
#include "imagery/sources/stac/stac_kind.hpp"
#include "imagery/sources/xyz/xyz_kind.hpp"

namespace skyscript::imagery {

const std::vector<const SourceKind*>& source_kinds() {
    static const std::vector<const SourceKind*> kinds{
        &earthengine_kind(),
        &gdal_kind(),
        &stac_kind(),
        &xyz_kind(),
    };
    return kinds;
}

} // namespace skyscript::imagery
