// Makes a bigger real-looking OSM input: N copies of a real extract side by side on a
// grid, each with renumbered ids (offset per copy) and coordinates shifted by one
// extract width/height per column/row. Output is sorted (all nodes, ways, relations).
//
//   bench-tile-input INPUT.osm.pbf N OUTPUT.osm.pbf

#include <osmium/io/any_input.hpp>
#include <osmium/io/any_output.hpp>
#include <osmium/memory/buffer.hpp>
#include <osmium/osm.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s INPUT.osm.pbf COPIES OUTPUT.osm.pbf\n", argv[0]);
        return 2;
    }
    try {
        const int copies = std::atoi(argv[2]);
        if (copies < 1) throw std::runtime_error("COPIES must be >= 1");
        osmium::io::Reader reader{argv[1], osmium::io::read_meta::no};
        osmium::memory::Buffer input = osmium::io::read_file(argv[1], osmium::osm_entity_bits::nwr, osmium::io::read_meta::no);
        reader.close();

        osmium::object_id_type max_id[3] = {0, 0, 0};
        osmium::Box box;
        for (const auto& obj : input.select<osmium::OSMObject>()) {
            const int t = obj.type() == osmium::item_type::node ? 0 : obj.type() == osmium::item_type::way ? 1 : 2;
            max_id[t] = std::max(max_id[t], static_cast<osmium::object_id_type>(obj.positive_id()));
            if (t == 0) box.extend(static_cast<const osmium::Node&>(obj).location());
        }
        const int cols = static_cast<int>(std::ceil(std::sqrt(copies)));
        const double dx = (box.top_right().lon() - box.bottom_left().lon()) * 1.01;
        const double dy = (box.top_right().lat() - box.bottom_left().lat()) * 1.01;

        osmium::io::Header header;
        header.set("generator", "skyscript-build bench-tile-input");
        header.set("sorting", "Type_then_ID");
        osmium::io::Writer writer{osmium::io::File{argv[3]}, header, osmium::io::overwrite::allow};
        const osmium::item_type order[3] = {osmium::item_type::node, osmium::item_type::way, osmium::item_type::relation};
        for (int t = 0; t < 3; ++t) {
            for (int k = 0; k < copies; ++k) {
                const auto offset = [&](int type) { return static_cast<osmium::object_id_type>(k) * (max_id[type] + 1); };
                const double shift_lon = (k % cols) * dx, shift_lat = (k / cols) * dy;
                osmium::memory::Buffer out{1024 * 1024, osmium::memory::Buffer::auto_grow::yes};
                for (const auto& obj : input.select<osmium::OSMObject>()) {
                    if (obj.type() != order[t] || obj.id() <= 0) continue;
                    const auto at = out.committed();
                    out.add_item(obj);
                    out.commit();
                    auto& copy = out.get<osmium::OSMObject>(at);
                    copy.set_id(obj.id() + offset(t));
                    if (t == 0) {
                        auto& node = static_cast<osmium::Node&>(copy);
                        const auto loc = node.location();
                        if (loc.valid()) {
                            const osmium::Location moved(loc.lon() + shift_lon, loc.lat() + shift_lat);
                            node.set_location(moved.valid() ? moved : loc);
                        }
                    } else if (t == 1) {
                        for (auto& nr : static_cast<osmium::Way&>(copy).nodes()) nr.set_ref(nr.ref() + offset(0));
                    } else {
                        for (auto& m : static_cast<osmium::Relation&>(copy).members()) {
                            const int mt = m.type() == osmium::item_type::node ? 0 : m.type() == osmium::item_type::way ? 1 : 2;
                            m.set_ref(m.ref() + offset(mt));
                        }
                    }
                }
                writer(std::move(out));
            }
        }
        writer.close();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench-tile-input: %s\n", e.what());
        return 1;
    }
    return 0;
}
