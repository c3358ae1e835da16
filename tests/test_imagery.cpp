// Tile grid maths (PROJ), JPEG encoding/decoding, and the 8-bit stretch.

#include "imagery/sources/gdal/gdal_source.hpp"
#include "imagery/image_decode.hpp"
#include "imagery/jpeg.hpp"
#include "test_support.hpp"
#include "imagery/tile_grid.hpp"

#include "imagery/local_file_stamp.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <thread>

#include <arpa/inet.h>
#include <cpl_conv.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace skyscript::imagery;

TEST_CASE("UTM zone choice: zone edges, hemispheres, UPS beyond 84N / 80S") {
    CHECK(utm_epsg_for(5.999, 45) == 32631);
    CHECK(utm_epsg_for(6.001, 45) == 32632);
    CHECK(utm_epsg_for(7.42, 43.73) == 32632);
    CHECK(utm_epsg_for(-74.0, 40.7) == 32618);
    CHECK(utm_epsg_for(-34.9, -8.0) == 32725);
    CHECK(utm_epsg_for(179.999, 10) == 32660);
    CHECK(utm_epsg_for(-180, 10) == 32601);
    CHECK(utm_epsg_for(180, 10) == 32660);
    CHECK(utm_epsg_for(10, 84.5) == 32661);
    CHECK(utm_epsg_for(10, -80.5) == 32761);
}

TEST_CASE("tile grid: size, pixel size, centre and box round trips") {
    struct Case {
        double lon, lat, side, gsd;
    };
    for (const auto& c : {Case{7.42, 43.73, 384 * 0.6, 0.6}, Case{5.9999, 46.5, 1000, 1}, Case{6.0001, 46.5, 1000, 1},
                          Case{-74.0, 40.7, 3840, 10}, Case{26.95, 60.53, 500, 0.5}, Case{10, 83.99, 2000, 10},
                          Case{10, 84.01, 2000, 10}, Case{-60, -79.99, 2000, 10}, Case{-60, -80.01, 2000, 10},
                          Case{179.9995, -16.5, 3000, 10}, Case{-179.9995, 65.5, 3000, 10}}) {
        INFO(c.lon << "," << c.lat);
        const auto g = make_tile_grid(c.lon, c.lat, c.side, c.gsd);
        CHECK(g.width == std::lround(c.side / c.gsd));
        CHECK(g.height == g.width);
        CHECK(g.geotransform[1] == c.gsd);
        CHECK(g.geotransform[5] == -c.gsd);
        double lon, lat;
        grid_to_lonlat(g.epsg, g.center_x, g.center_y, lon, lat);
        CHECK(lon == doctest::Approx(c.lon).epsilon(1e-9));
        CHECK(lat == doctest::Approx(c.lat).epsilon(1e-9));
        // The centre is inside the box; the box spans about side metres.
        CHECK(g.box.south < c.lat);
        CHECK(g.box.north > c.lat);
        const double dlat_m = (g.box.north - g.box.south) * 111320;
        CHECK(dlat_m > c.side * 0.95);
        CHECK(dlat_m < c.side * 1.5);
        // Every corner of the pixel grid maps back into the box.
        for (double fx : {0.0, 1.0})
            for (double fy : {0.0, 1.0}) {
                const double x = g.geotransform[0] + fx * g.width * c.gsd, y = g.geotransform[3] - fy * g.height * c.gsd;
                grid_to_lonlat(g.epsg, x, y, lon, lat);
                CHECK(lat >= g.box.south - 1e-9);
                CHECK(lat <= g.box.north + 1e-9);
                if (!g.box.crosses_antimeridian()) {
                    CHECK(lon >= g.box.west - 1e-9);
                    CHECK(lon <= g.box.east + 1e-9);
                }
            }
    }
}

TEST_CASE("tiles across the antimeridian have west > east; others do not") {
    const auto a = make_tile_grid(179.9995, -16.5, 3000, 10);
    CHECK(a.box.crosses_antimeridian());
    CHECK(a.box.west > 179.9);
    CHECK(a.box.east < -179.9);
    const auto b = make_tile_grid(-179.9995, 65.5, 3000, 10);
    CHECK(b.box.crosses_antimeridian());
    CHECK_FALSE(make_tile_grid(179.9, -16.5, 3000, 10).box.crosses_antimeridian());
}

TEST_CASE("tile grid rejects bad input") {
    CHECK_THROWS_AS(make_tile_grid(181, 0, 100, 1), std::invalid_argument);
    CHECK_THROWS_AS(make_tile_grid(0, 91, 100, 1), std::invalid_argument);
    CHECK_THROWS_AS(make_tile_grid(0, 0, -5, 1), std::invalid_argument);
    CHECK_THROWS_AS(make_tile_grid(0, 0, 100, 0), std::invalid_argument);
    CHECK_THROWS_AS(make_tile_grid(0, 0, 40000, 1), std::invalid_argument); // 40,000 px > 32,768
}

TEST_CASE("JPEG: encode, decode, and refuse truncated or non-JPEG bodies") {
    RgbImage img;
    img.width = 64;
    img.height = 48;
    for (int y = 0; y < 48; ++y)
        for (int x = 0; x < 64; ++x) {
            img.rgb.push_back(static_cast<std::uint8_t>(x * 4));
            img.rgb.push_back(static_cast<std::uint8_t>(y * 5));
            img.rgb.push_back(128);
        }
    const auto jpg = encode_jpeg(img, 95);
    REQUIRE(jpg.size() > 100);
    CHECK(static_cast<unsigned char>(jpg[0]) == 0xFF);
    CHECK(static_cast<unsigned char>(jpg[1]) == 0xD8);
    const auto back = decode_jpeg(jpg);
    CHECK(back.width == 64);
    CHECK(back.height == 48);
    double mad = 0;
    for (std::size_t i = 0; i < img.rgb.size(); ++i) mad += std::abs(int(img.rgb[i]) - int(back.rgb[i]));
    CHECK(mad / double(img.rgb.size()) < 3);
    CHECK_THROWS_AS(decode_jpeg(jpg.substr(0, jpg.size() / 2)), std::runtime_error);
    CHECK_THROWS_AS(decode_jpeg("<html>not an image</html>"), std::runtime_error);
    CHECK_THROWS_AS(encode_jpeg(img, 0), std::invalid_argument);
}

TEST_CASE("a JPEG libjpeg-turbo refuses (12-bit, lossless) says why, and the thread's next JPEG reads (round 36)") {
    namespace t = skyscript::test;
    const auto dir = t::fresh_dir("check_jpeg_12bit");
    REQUIRE(t::run("gdal_create -q -of GTiff -outsize 256 256 -bands 3 -ot UInt16 -burn 1000 " + t::sh_quote(dir + "/t16.tif") +
                   " && gdal_translate -q -of JPEG " + t::sh_quote(dir + "/t16.tif") + " " + t::sh_quote(dir + "/j12.jpg")).exit_code == 0);
    const auto twelve = t::read_file(dir + "/j12.jpg");
    auto lossless = t::read_file(t::data("tiles/17/62093/50163.jpg"));
    const auto tile = lossless;
    const auto sof = lossless.find("\xFF\xC0");
    REQUIRE(sof != std::string::npos);
    lossless[sof + 1] = '\xC3'; // SOF3: lossless
    for (const auto& refused : {twelve, lossless}) {
        const auto why = check_jpeg(refused, 256);
        REQUIRE(why.has_value());
        CHECK(why->starts_with("not a JPEG image ("));
        // Before: the handle was left half-way through the refused header; every later JPEG of the
        // thread failed with "Invalid JPEG file structure: two SOI markers".
        CHECK_FALSE(check_jpeg(tile, 256).has_value());
        CHECK(decode_jpeg(tile).width == 256);
        CHECK_FALSE(jpeg_header_size(refused).has_value());
        CHECK(jpeg_header_size(tile) == std::pair{256, 256});
        CHECK_THROWS_AS(decode_jpeg(refused), std::runtime_error);
        CHECK(decode_jpeg(tile).height == 256);
    }
    CHECK(check_jpeg(twelve, 256)->find("precision") != std::string::npos); // names the 12 bits
}

TEST_CASE("check_jpeg: a cut real JPEG is truncated wherever it is cut, also just after an embedded thumbnail") {
    const auto tile = skyscript::test::read_file(skyscript::test::data("tiles/17/62093/50163.jpg"));
    REQUIRE(tile.size() > 1000);
    CHECK_FALSE(check_jpeg(tile, 256).has_value());
    // A CMYK JPEG (PIL's) is refused here, with the tile's URL, not later by the worker's decoder.
    const auto dir = skyscript::test::fresh_dir("check_jpeg_cmyk");
    const auto made = skyscript::test::run("/usr/bin/python3 -c " + skyscript::test::sh_quote("import sys; from PIL import Image; "
                                                                                         "Image.open(sys.argv[1]).convert('CMYK').save(sys.argv[2])") +
                                           " " + skyscript::test::sh_quote(skyscript::test::data("tiles/17/62093/50163.jpg")) + " " +
                                           skyscript::test::sh_quote(dir + "/cmyk.jpg"));
    REQUIRE(made.exit_code == 0);
    CHECK(check_jpeg(skyscript::test::read_file(dir + "/cmyk.jpg"), 256) == "JPEG in CMYK: only gray, RGB and YCbCr JPEG tiles are read");
    for (std::size_t cut = 2; cut < tile.size(); cut += 97) {
        INFO("cut at " << cut << " of " << tile.size());
        const auto why = check_jpeg(std::string_view(tile).substr(0, cut), 256);
        REQUIRE(why.has_value());
        CHECK(why->find("truncated") != std::string::npos);
    }
    CHECK(check_jpeg(std::string_view(tile).substr(0, tile.size() - 1), 256)->find("truncated") != std::string::npos);
    // Cameras and some servers put a thumbnail JPEG in an APP1 (EXIF) segment: its end
    // marker is not the image's.
    RgbImage small;
    small.width = small.height = 16;
    small.rgb.assign(16 * 16 * 3, 90);
    const auto thumb = encode_jpeg(small, 80);
    const std::string app1 = std::string("\xFF\xE1") + char((thumb.size() + 8) >> 8) + char((thumb.size() + 8) & 0xFF) + std::string("Exif\0\0", 6) + thumb;
    const std::string with_thumb = tile.substr(0, 2) + app1 + tile.substr(2);
    CHECK_FALSE(check_jpeg(with_thumb, 256).has_value());
    CHECK(decode_jpeg(with_thumb).width == 256);
    const auto cut_after_thumb = with_thumb.substr(0, 2 + app1.size());
    REQUIRE(cut_after_thumb.ends_with("\xFF\xD9"));
    const auto why = check_jpeg(cut_after_thumb, 256);
    REQUIRE(why.has_value());
    CHECK(why->find("truncated") != std::string::npos);
    // Bytes after the end marker are not truncation (decoders ignore them).
    CHECK_FALSE(check_jpeg(tile + std::string(16, '\0'), 256).has_value());
    CHECK(check_jpeg("<html>busy</html>", 256)->find("not a JPEG") != std::string::npos);
    CHECK(check_jpeg(tile, 512)->find("expected 512") != std::string::npos);
}

TEST_CASE("paletted PNG tiles decode to their palette's colours; transparent entries are invalid") {
    using namespace skyscript::test;
    const auto dir = fresh_dir("palette_png");
    // A real tile quantised to a 256-colour palette by GDAL's rgb2pct, then a 64 px square
    // set to an index whose entry is made fully transparent (PNG tRNS).
    const auto made = run("rgb2pct.py -of PNG " + sh_quote(data("tiles/17/62093/50163.jpg")) + " " + sh_quote(dir + "/pct.png") +
                          " && /usr/bin/python3 -c " +
                          sh_quote("import sys\nfrom osgeo import gdal\ngdal.UseExceptions()\n"
                                   "src = gdal.Open(sys.argv[1]); b = src.GetRasterBand(1)\n"
                                   "ct = b.GetColorTable().Clone(); ct.SetColorEntry(255, (0, 0, 0, 0))\n"
                                   "a = b.ReadAsArray(); a[a == 255] = 254; a[0:64, 0:64] = 255\n"
                                   "mem = gdal.GetDriverByName('MEM').Create('', 256, 256, 1, gdal.GDT_Byte)\n"
                                   "mem.GetRasterBand(1).WriteArray(a); mem.GetRasterBand(1).SetColorTable(ct)\n"
                                   "gdal.GetDriverByName('PNG').CreateCopy(sys.argv[2], mem)\n") +
                          " " + sh_quote(dir + "/pct.png") + " " + sh_quote(dir + "/tile.png") +
                          " && gdal_translate -q -expand rgba " + sh_quote(dir + "/tile.png") + " " + sh_quote(dir + "/expanded.tif"));
    INFO(made.err);
    REQUIRE(made.exit_code == 0);
    const auto png = read_file(dir + "/tile.png");
    REQUIRE(run("gdalinfo " + sh_quote(dir + "/tile.png")).out.find("Color Table") != std::string::npos);
    const auto img = decode_image(png, 256, 256);
    REQUIRE(img.width == 256);
    REQUIRE(img.height == 256);
    const auto ref = load_raster(dir + "/expanded.tif"); // GDAL's own palette expansion, RGBA
    REQUIRE(ref.bands == 4);
    std::size_t colour_pixels = 0, mismatched = 0, valid_mismatch = 0;
    for (std::size_t i = 0; i < img.valid.size(); ++i) {
        const bool ref_valid = ref.data[3][i] > 0;
        valid_mismatch += (img.valid[i] != 0) != ref_valid;
        if (!ref_valid) continue;
        for (int c = 0; c < 3; ++c) mismatched += img.rgb[i * 3 + c] != static_cast<std::uint8_t>(ref.data[c][i]);
        colour_pixels += !(img.rgb[i * 3] == img.rgb[i * 3 + 1] && img.rgb[i * 3 + 1] == img.rgb[i * 3 + 2]);
    }
    CHECK(mismatched == 0);
    CHECK(valid_mismatch == 0);
    CHECK(colour_pixels > 10000); // colours, not gray palette indices
    CHECK(img.valid_fraction() == doctest::Approx(1.0 - 64.0 * 64 / (256.0 * 256)));
    CHECK(img.valid[0] == 0);
    CHECK(img.rgb[0] == 0);
}

TEST_CASE("a server's body is decoded only as an image of the size asked: no VRT, no huge declared size") {
    using namespace skyscript::test;
    const auto dir = fresh_dir("decode_hostile");
    // A VRT sent as a tile: GDAL would read the local raster it names (or call the hosts it names)
    // and the dataset would hold that file's pixels. A PNG whose header declares 60000 x 60000 px
    // in a small body: decoding it first took 14 GB. Made by the system python3.
    const auto made = run("/usr/bin/python3 -c " + sh_quote("import struct, sys, zlib\n"
                                                            "def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))\n"
                                                            "ihdr = struct.pack('>IIBBBBB', 60000, 60000, 8, 2, 0, 0, 0)\n"
                                                            "idat = zlib.compress(b'\\0' * (60000 * 3 + 1) * 20, 9)\n"
                                                            "open(sys.argv[1], 'wb').write(b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', idat) + chunk(b'IEND', b''))\n") +
                          " " + sh_quote(dir + "/bomb.png") + " && gdal_translate -q -of VRT -srcwin 0 0 256 256 " + sh_quote(data("tiles/17/62093/50163.jpg")) +
                          " " + sh_quote(dir + "/tile.vrt") + " && gdal_translate -q -of PNG " + sh_quote(data("tiles/17/62093/50163.jpg")) + " " +
                          sh_quote(dir + "/tile.png"));
    INFO(made.err);
    REQUIRE(made.exit_code == 0);
    const auto vrt = read_file(dir + "/tile.vrt");
    REQUIRE(vrt.find("50163.jpg") != std::string::npos); // it names the local tile
    CHECK_THROWS_WITH(decode_image(vrt, 256, 256), "not an image (PNG, JPEG, WebP, GIF, TIFF or BMP) GDAL can read");
    CHECK_THROWS_WITH(decode_image(read_file(dir + "/bomb.png"), 256, 256), "image is 60000x60000 px, expected 256x256");
    // A JPEG or PNG of another size than asked: refused by its header.
    const auto jpeg = read_file(data("tiles/17/62093/50163.jpg"));
    CHECK_THROWS_WITH(decode_image(jpeg, 512, 512), "image is 256x256 px, expected 512x512");
    CHECK_THROWS_WITH(decode_image(read_file(dir + "/tile.png"), 256, 128), "image is 256x256 px, expected 256x128");
    // The same tile as JPEG and as PNG decodes, to the same pixels.
    const auto a = decode_image(jpeg, 256, 256), b = decode_image(read_file(dir + "/tile.png"), 256, 256);
    CHECK(a.rgb == b.rgb);

    // Samples of other depths (a red-team finding: 16-bit came out white, float black, 1-bit
    // black, every pixel valid). 16-bit and float tiles are refused; 1, 2 and 4 bits stretched.
    const auto tile = sh_quote(dir + "/tile.png");
    const auto depths = run("gdal_translate -q -ot UInt16 -scale 0 255 0 65535 " + tile + " " + sh_quote(dir + "/t16.png") +
                            " && gdal_translate -q -ot Float32 -scale 0 255 0 1 " + tile + " " + sh_quote(dir + "/tf.tif") +
                            " && gdal_translate -q -b 1 -scale 0 255 0 1 -co NBITS=1 " + tile + " " + sh_quote(dir + "/g1.png") +
                            " && gdal_translate -q -b 1 -scale 0 255 0 15 -co NBITS=4 " + tile + " " + sh_quote(dir + "/g4.png"));
    INFO(depths.err);
    REQUIRE(depths.exit_code == 0);
    CHECK_THROWS_WITH(decode_image(read_file(dir + "/t16.png"), 256, 256), "image samples are UInt16: only 8-bit tiles are read");
    CHECK_THROWS_WITH(decode_image(read_file(dir + "/tf.tif"), 256, 256), "image samples are Float32: only 8-bit tiles are read");
    for (const auto& [file, bits] : {std::pair{"/g1.png", 1}, std::pair{"/g4.png", 4}}) {
        INFO(file);
        const auto g = decode_image(read_file(dir + file), 256, 256);
        const int step = 255 / ((1 << bits) - 1);
        std::size_t off_step = 0, top = 0, close = 0;
        for (std::size_t i = 0; i < g.valid.size(); ++i) {
            off_step += g.rgb[3 * i] % step != 0;
            top += g.rgb[3 * i] == 255;
            close += std::abs(int(g.rgb[3 * i]) - int(b.rgb[3 * i])) <= step + 1; // the source's red, within a level
        }
        CHECK(off_step == 0);
        CHECK(top > 0);
        CHECK(close == g.valid.size());
    }
}

TEST_CASE("stretch: Byte as is, fixed range, percentile for other types, invalid pixels black") {
    const std::vector<float> r{0, 100, 200, 300}, g{0, 100, 200, 300}, b{0, 100, 200, 300};
    const std::vector<std::uint8_t> valid{1, 1, 1, 0};
    std::vector<std::uint8_t> out;
    stretch_to_rgb8({r.data(), g.data(), b.data()}, valid, 4, true, Stretch{}, out);
    CHECK(out == std::vector<std::uint8_t>{0, 0, 0, 100, 100, 100, 200, 200, 200, 0, 0, 0});
    Stretch fixed;
    fixed.mode = Stretch::Mode::fixed;
    fixed.min = 100;
    fixed.max = 200;
    stretch_to_rgb8({r.data(), g.data(), b.data()}, valid, 4, false, fixed, out);
    CHECK(out == std::vector<std::uint8_t>{0, 0, 0, 0, 0, 0, 255, 255, 255, 0, 0, 0});
    Stretch pct;
    pct.low_percent = 0;
    pct.high_percent = 100;
    stretch_to_rgb8({r.data(), g.data(), b.data()}, valid, 4, false, pct, out); // valid range 0..200
    CHECK((out[3] == 127 || out[3] == 128)); // 100 of 0..200
    CHECK(out[6] == 255);
}

TEST_CASE("a thread keeps the rasters it read open, the 32 it used last, not every one (a stac build reads a COG per item)") {
    using namespace skyscript::test;
    const auto dir = fresh_dir("open-rasters");
    // 40 rasters: VRTs over the same file, each a path of its own to GDAL.
    for (int i = 0; i < 40; ++i)
        REQUIRE(run("gdal_translate -q -of VRT " + sh_quote(data("imagery/dop-rgb.tif")) + " " + sh_quote(dir + "/r" + std::to_string(i) + ".vrt"))
                    .exit_code == 0);
    const auto grid = make_tile_grid(9.505, 53.5130, 64, 2);
    std::thread([&] {
        RgbImage first;
        for (int i = 0; i < 40; ++i) {
            auto img = read_raster_tile(dir + "/r" + std::to_string(i) + ".vrt", grid, {});
            if (i == 0) first = img;
            CHECK(open_raster_count() <= 32);
        }
        CHECK(open_raster_count() == 32);
        // The first, closed since, opens again and reads the same pixels.
        CHECK(read_raster_tile(dir + "/r0.vrt", grid, {}).rgb == first.rgb);
        // The one used last stays open: reading it again does not close another.
        read_raster_tile(dir + "/r39.vrt", grid, {});
        CHECK(open_raster_count() == 32);
        close_rasters_of_this_thread(); // before the thread ends (else its PROJ context leaks)
        CHECK(open_raster_count() == 0);
    }).join();
}

TEST_CASE("raster_local_files: a file's sidecars, a VRT's members through nested VRTs, an inline VRT's, archives, each once; no cycle followed for ever") {
    using namespace skyscript::test;
    const auto dir = fresh_dir("raster-local-files");
    const auto tif = dir + "/a.tif", inner = dir + "/inner.vrt", outer = dir + "/outer.vrt";
    std::filesystem::copy_file(data("imagery/pan1.tif"), tif);
    std::filesystem::copy_file(data("imagery/pan1.tif.aux.xml"), tif + ".aux.xml");
    CHECK(raster_local_files(tif) == std::vector<std::string>{tif, tif + ".aux.xml"});
    REQUIRE(run("gdalbuildvrt -q " + sh_quote(inner) + " " + sh_quote(tif)).exit_code == 0);
    REQUIRE(run("gdalbuildvrt -q " + sh_quote(outer) + " " + sh_quote(inner) + " " + sh_quote(inner)).exit_code == 0); // one member twice
    // GDAL lists outer.vrt and inner.vrt; the member a.tif and its sidecar are followed here.
    CHECK(raster_local_files(outer) == std::vector<std::string>{tif, tif + ".aux.xml", inner, outer});
    // An inline VRT has no file of its own: only its member (named by its absolute path).
    auto xml = read_file(inner);
    const std::string relative = "relativeToVRT=\"1\">a.tif<";
    REQUIRE(xml.find(relative) != std::string::npos);
    xml.replace(xml.find(relative), relative.size(), "relativeToVRT=\"0\">" + tif + "<");
    CHECK(raster_local_files(xml) == std::vector<std::string>{tif, tif + ".aux.xml"});
    // A VRT naming itself does not open (GDAL refuses the recursion): it lists itself, and returns.
    const auto loop = dir + "/loop.vrt";
    write_file(loop, xml.replace(xml.find(tif + "<"), tif.size(), loop));
    CHECK(raster_local_files(loop) == std::vector<std::string>{loop});
    // In a local archive, the archive stands for what is read in it; remote and in-memory names stand for nothing here.
    const auto zip = dir + "/rasters.zip";
    REQUIRE(run("cd " + sh_quote(dir) + " && /usr/bin/python3 -c \"import zipfile; zipfile.ZipFile('rasters.zip', 'w').write('a.tif')\"").exit_code == 0);
    CHECK(raster_local_files("/vsizip/" + zip + "/a.tif") == std::vector<std::string>{zip});
    CHECK(local_file_behind("/vsizip/{" + zip + "}/a.tif") == zip);
    CHECK(local_file_behind("/vsitar/" + dir + "/none.tar/x/y.tif") == dir + "/none.tar/x/y.tif"); // no archive there now: the whole name, stamped "missing"
    CHECK(local_file_behind("/vsizip//vsicurl/http://127.0.0.1:9/a.zip/a.tif").empty());
    CHECK(local_file_behind("/vsicurl/http://127.0.0.1:9/a.tif").empty());
    CHECK(local_file_behind("/vsimem/a.tif").empty());
    CHECK(local_file_behind(tif) == tif);
    // A part of a file and an encrypted file stand for that file (red-team round 38: a raster
    // behind /vsisubfile/ stood for nothing, so one rewritten in place was resumed and reused).
    CHECK(local_file_behind("/vsisubfile/0_1000," + tif) == tif);
    CHECK(local_file_behind("/vsisubfile/0," + tif) == tif);
    CHECK(local_file_behind("/vsisubfile/0_1000,/vsizip/" + zip + "/a.tif") == zip);
    CHECK(local_file_behind("/vsicrypt/key=abc,file=" + tif) == tif);
    CHECK(local_file_behind("/vsigzip//vsisubfile/0_1000," + tif) == tif); // an archive's prefix over another local one (red-team round 40)
    const auto subfile = raster_local_files("/vsisubfile/0_" + std::to_string(std::filesystem::file_size(tif)) + "," + tif);
    CHECK(std::find(subfile.begin(), subfile.end(), tif) != subfile.end());
    // A VRT over the zipped raster lists the zip.
    const auto zipped_vrt = dir + "/zipped.vrt";
    REQUIRE(run("gdalbuildvrt -q " + sh_quote(zipped_vrt) + " " + sh_quote("/vsizip/" + zip + "/a.tif")).exit_code == 0);
    CHECK(raster_local_files(zipped_vrt) == std::vector<std::string>{zip, zipped_vrt});
    // A missing file lists its path, to be stamped "missing".
    CHECK(raster_local_files(dir + "/none.tif") == std::vector<std::string>{dir + "/none.tif"});
}

TEST_CASE("a file's stamp: the same bytes with the time kept to the second only (tar, scp -p) are the same file; any other change is one, told in words (red-team round 39)") {
    using namespace skyscript::imagery;
    CHECK(stamp_unchanged("2224298:1796672699601124260", "2224298:1796672699000000000")); // before: changed, and every rerun refused
    CHECK_FALSE(stamp_unchanged("2224298:1796672699000000000", "2224298:1796672699601124260")); // whole, then a fraction: written since (red-team round 40)
    CHECK(stamp_unchanged("2224298:1796672699601124260 +2 files ab12", "2224298:1796672699000000000 +2 files ab12"));
    CHECK(stamp_unchanged("2224298:1796672699601124260", "2224298:1796672699000000000 +2 files ab12")); // an older version's stamp of the file alone
    CHECK_FALSE(stamp_unchanged("2224298:1796672699601124260", "2224298:1796672699601124261"));  // both with fractions: another write
    CHECK_FALSE(stamp_unchanged("2224298:1796672699601124260", "2224298:1796672700000000000"));  // another second
    CHECK_FALSE(stamp_unchanged("2224298:1796672699601124260", "2224299:1796672699000000000"));  // another size
    CHECK_FALSE(stamp_unchanged("2224298:1796672699601124260 +2 files ab12", "2224298:1796672699000000000 +2 files cd34"));
    CHECK_FALSE(stamp_unchanged("2224298:1796672699601124260", "missing"));
    CHECK(stamp_unchanged("10:-1500000000", "10:-1000000000") == false); // before 1970: -1.5 s and -1 s are different seconds
    CHECK(stamp_unchanged("10:-1500000000", "10:-2000000000"));         // -1.5 s is in the second that starts at -2 s
    CHECK(describe_stamp_change("2224298:1796672699601124260", "2224299:1796672699000000000") ==
          "2224298 bytes, modified 2026-12-07T19:44:59.601124260Z -> 2224299 bytes, modified 2026-12-07T19:44:59.000000000Z");
    CHECK(describe_stamp_change("10:-1500000000", "missing") == "10 bytes, modified 1969-12-31T23:59:58.500000000Z -> missing");
}

TEST_CASE("raster_local_files asks no server about a VRT's remote members (GDAL's own file list asks after each /vsis3/ one)") {
    using namespace skyscript::test;
    const auto dir = fresh_dir("raster-local-files-remote");
    const auto tif = dir + "/a.tif";
    std::filesystem::copy_file(data("imagery/dop-rgb.tif"), tif);
    // A listening socket stands for S3: a connection GDAL opens waits in its backlog, answered or not.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(fd >= 0);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    const std::string endpoint = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    for (const auto& [key, value] : std::vector<std::pair<const char*, std::string>>{
             {"AWS_S3_ENDPOINT", endpoint}, {"AWS_HTTPS", "NO"}, {"AWS_VIRTUAL_HOSTING", "FALSE"}, {"AWS_NO_SIGN_REQUEST", "YES"}, {"GDAL_HTTP_TIMEOUT", "1"}})
        CPLSetConfigOption(key, value.c_str());
    // A VRT of the local raster and a remote one (the local one's XML, its source renamed).
    const auto local_vrt = dir + "/local.vrt";
    REQUIRE(run("gdalbuildvrt -q " + sh_quote(local_vrt) + " " + sh_quote(tif)).exit_code == 0);
    auto xml = read_file(local_vrt);
    const auto simple = xml.find("<SimpleSource>"), end = xml.find("</SimpleSource>") + std::string("</SimpleSource>").size();
    REQUIRE(simple != std::string::npos);
    auto remote = xml.substr(simple, end - simple);
    remote.replace(remote.find("relativeToVRT=\"1\">a.tif<"), std::string("relativeToVRT=\"1\">a.tif<").size(), "relativeToVRT=\"0\">/vsis3/bucket/b.tif<");
    const auto mixed = dir + "/mixed.vrt";
    write_file(mixed, xml.insert(end, remote));
    const auto files = raster_local_files(mixed);
    for (const char* key : {"AWS_S3_ENDPOINT", "AWS_HTTPS", "AWS_VIRTUAL_HOSTING", "AWS_NO_SIGN_REQUEST", "GDAL_HTTP_TIMEOUT"}) CPLSetConfigOption(key, nullptr);
    CHECK(files == std::vector<std::string>{tif, mixed});
    pollfd p{fd, POLLIN, 0};
    CHECK_MESSAGE(::poll(&p, 1, 0) == 0, "a connection to the stand-in S3 was made"); // none waiting
    ::close(fd);
}

TEST_CASE("a float raster's NaN (its fill, no nodata declared) is no data: not black pixels counted valid, not in the stretch") {
    using namespace skyscript::test;
    const auto dir = fresh_dir("imagery-nan");
    const auto raster = dir + "/nan.tif";
    // 3 bands of Float32, 200 x 200 px of 1 m in UTM 32N, values 100..300 by column; the west half NaN.
    const auto made = run("/usr/bin/python3 -c " + sh_quote("import sys, numpy\n"
                                                           "from osgeo import gdal, osr\n"
                                                           "ds = gdal.GetDriverByName('GTiff').Create(sys.argv[1], 200, 200, 3, gdal.GDT_Float32)\n"
                                                           "ds.SetGeoTransform([500000, 1, 0, 5900000, 0, -1])\n"
                                                           "s = osr.SpatialReference(); s.ImportFromEPSG(32632); ds.SetProjection(s.ExportToWkt())\n"
                                                           "a = numpy.tile(numpy.linspace(100, 300, 200, dtype='float32'), (200, 1))\n"
                                                           "a[:, :100] = numpy.nan\n"
                                                           "for b, c in ((1, gdal.GCI_RedBand), (2, gdal.GCI_GreenBand), (3, gdal.GCI_BlueBand)):\n"
                                                           "    ds.GetRasterBand(b).WriteArray(a); ds.GetRasterBand(b).SetColorInterpretation(c)\n"
                                                           "ds = None\n") +
                          " " + sh_quote(raster));
    REQUIRE_MESSAGE(made.exit_code == 0, made.err);
    const auto grid = [](double x_min, double y_max, int side) {
        TileGrid g;
        g.epsg = 32632;
        g.gsd = 1;
        g.width = g.height = side;
        g.geotransform[0] = x_min, g.geotransform[1] = 1, g.geotransform[3] = y_max, g.geotransform[5] = -1;
        return g;
    };
    // Across the edge: the NaN half is no data (before: every pixel valid, all black).
    const auto across = read_raster_tile(raster, grid(500050, 5899950, 100), {});
    const auto valid = std::count(across.valid.begin(), across.valid.end(), 1);
    CHECK(valid >= 45 * 100);
    CHECK(valid <= 55 * 100);
    // On the data: coloured from the finite values' range (before: NaN percentiles made every tile black).
    const auto east = read_raster_tile(raster, grid(500120, 5899900, 60), {});
    CHECK(std::count(east.valid.begin(), east.valid.end(), 1) == 60 * 60);
    const auto brightest = *std::max_element(east.rgb.begin(), east.rgb.end());
    CHECK(brightest > 200);
    // Wholly in the NaN half: no pixel valid.
    const auto west = read_raster_tile(raster, grid(500010, 5899900, 60), {});
    CHECK(std::count(west.valid.begin(), west.valid.end(), 1) == 0);
}

TEST_CASE("a raster whose blocks are huge (a small sparse file declaring 16,384 px blocks) is refused, not read a GB at a time") {
    using namespace skyscript::test;
    const auto dir = fresh_dir("imagery-block-bomb");
    const auto raster = dir + "/bomb.tif";
    const auto made = run("gdal_create -q -of GTiff -outsize 20000 20000 -bands 3 -ot Byte -co TILED=YES -co BLOCKXSIZE=16384 -co BLOCKYSIZE=16384 "
                          "-co SPARSE_OK=YES -a_srs EPSG:32632 -a_ullr 500000 5900000 520000 5880000 " + sh_quote(raster));
    REQUIRE_MESSAGE(made.exit_code == 0, made.err);
    CHECK(std::filesystem::file_size(raster) < (1 << 20));
    TileGrid g;
    g.epsg = 32632;
    g.gsd = 1;
    g.width = g.height = 100;
    g.geotransform[0] = 510000, g.geotransform[1] = 1, g.geotransform[3] = 5890000, g.geotransform[5] = -1;
    CHECK_THROWS_WITH_AS(read_raster_tile(raster, g, {}), doctest::Contains("bomb.tif: its blocks are 16384 x 16384 px (256 MB a band), more than 64 MB"),
                         RasterError);
    // A tiled raster of ordinary blocks is read.
    const auto tiled = dir + "/tiled.tif";
    REQUIRE(run("gdal_create -q -of GTiff -outsize 2000 2000 -bands 3 -ot Byte -burn 50 -co TILED=YES -a_srs EPSG:32632 -a_ullr 509000 5891000 511000 5889000 " +
                sh_quote(tiled)).exit_code == 0);
    CHECK(read_raster_tile(tiled, g, {}).valid_fraction() == doctest::Approx(1.0));
}
