#include "pipeline_fixture.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

namespace skyscript::test {

const Rendering& monaco() {
    static const Rendering r = [] {
        Rendering m;
        m.dir = fresh_dir("pipeline-monaco-" + std::to_string(::getpid())); // one per suite: suites run in parallel
        REQUIRE(run(sh_quote(binary()) + " extract " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -q -o " + sh_quote(m.dir)).exit_code == 0);
        m.catalog = m.dir + "/catalog.gpkg";
        m.raster = m.dir + "/render.tif";
        const auto render = run(sh_quote(source_dir() + "/tests/render_osm_raster.sh") + " " + sh_quote(m.catalog) + " " +
                                sh_quote(m.raster) + " " + monaco_box + " 0.5");
        REQUIRE_MESSAGE(render.exit_code == 0, render.err);
        m.sources = m.dir + "/sources.toml";
        write_file(m.sources, "[[source]]\nalias = \"RENDER\"\nkind = \"gdal\"\npath = \"" + m.raster + "\"\nyear = 2021\n");
        return m;
    }();
    return r;
}

const std::string& rendering_tiles() {
    static const std::string dir = [] {
        const auto d = fresh_dir("pipeline-xyz-tiles-" + std::to_string(::getpid()));
        const auto tiles = run("gdal2tiles.py -q --xyz -z 17 --processes=2 -r bilinear " + sh_quote(monaco().raster) + " " + sh_quote(d));
        REQUIRE_MESSAGE(tiles.exit_code == 0, tiles.err);
        return d;
    }();
    return dir;
}

CommandResult build(const std::string& out, const std::string& extra) {
    return run("timeout 300 " + sh_quote(binary()) + " " + sh_quote(data("osm/monaco-latest.osm.pbf")) + " -o " + sh_quote(out) +
               " --sources " + sh_quote(monaco().sources) + " " + extra);
}

} // namespace skyscript::test
