// JPEG a band of rows at a time (issue 25: the xyz source holds only the mosaic rows a band of
// output samples, and encodes each band as it is made): the row reader gives exactly the rows
// the whole-image decoder gives, however it is read, and refuses broken data as decode_jpeg
// does; the row writer writes exactly the bytes TurboJPEG's tjCompress2 wrote for the image.

#include "imagery/jpeg.hpp"
#include "imagery/jpeg_row_reader.hpp"
#include "imagery/jpeg_row_writer.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include <turbojpeg.h>

using namespace skyscript::imagery;

namespace {

std::vector<std::string> real_tiles() {
    std::vector<std::string> tiles;
    for (const auto& e : std::filesystem::recursive_directory_iterator(skyscript::test::data("tiles/17")))
        if (e.path().extension() == ".jpg") tiles.push_back(skyscript::test::read_file(e.path().string()));
    std::sort(tiles.begin(), tiles.end());
    return tiles;
}

// TurboJPEG, the whole image at once: what encode_jpeg was before the row writer (4:2:0,
// accurate DCT), and other kinds of JPEG a server may send.
std::string tj_compress(const RgbImage& img, int quality, int subsamp = TJSAMP_420, int flags = TJFLAG_ACCURATEDCT) {
    tjhandle tj = tjInitCompress();
    unsigned char* out = nullptr;
    unsigned long size = 0;
    const int rc = tjCompress2(tj, img.rgb.data(), img.width, 0, img.height, TJPF_RGB, &out, &size, subsamp, quality, flags);
    std::string bytes = rc == 0 ? std::string(reinterpret_cast<const char*>(out), size) : std::string();
    tjFree(out);
    tjDestroy(tj);
    return bytes;
}

} // namespace

TEST_CASE("JpegRowReader: real tiles read in random pieces, passed over and started again give decode_jpeg's rows") {
    auto tiles = real_tiles();
    REQUIRE(tiles.size() >= 8);
    // The first tile again as progressive, greyscale and 4:4:4 JPEG: servers send those too.
    const auto first = decode_jpeg(tiles.front());
    for (const auto& [subsamp, flags] : {std::pair{TJSAMP_420, TJFLAG_PROGRESSIVE}, std::pair{TJSAMP_GRAY, 0}, std::pair{TJSAMP_444, 0}}) {
        tiles.push_back(tj_compress(first, 85, subsamp, flags));
        REQUIRE(tiles.back().size() > 1000);
    }
    std::mt19937 rng(7);
    JpegRowReader reader; // one reader for every tile, as a worker keeps one a tile column
    for (const auto& tile : tiles) {
        const auto whole = decode_jpeg(tile);
        REQUIRE(whole.width == 256);
        const std::size_t pitch = 256 * 3 + 5; // rows need not be packed
        std::vector<std::uint8_t> got(pitch * 256, 0);
        std::vector<char> seen(256, 0);
        for (int pass = 0; pass < 3; ++pass) {
            reader.start(tile, 256, 256);
            while (reader.next_row() < 256) {
                const int row = reader.next_row(), n = std::min(256 - row, int(rng() % 40) + 1);
                if (rng() % 3 == 0) {
                    reader.read(n, nullptr, 0); // passed over
                } else {
                    reader.read(n, got.data() + row * pitch, pitch);
                    for (int r = row; r < row + n; ++r) seen[r] = 1;
                }
                if (rng() % 50 == 0) break; // started again part way
            }
        }
        for (int r = 0; r < 256; ++r) {
            if (!seen[r]) continue;
            INFO("row " << r);
            REQUIRE(std::equal(got.begin() + r * pitch, got.begin() + r * pitch + 256 * 3, whole.rgb.begin() + r * 256 * 3));
        }
        CHECK(std::count(seen.begin(), seen.end(), 1) > 100);
    }
    reader.finish();
}

TEST_CASE("JpegRowReader: broken, cut, foreign and wrongly sized data is refused, and the reader goes on") {
    const auto tile = real_tiles().front();
    const auto whole = decode_jpeg(tile);
    JpegRowReader reader;
    std::vector<std::uint8_t> rows(256 * 3 * 256);
    auto read_all = [&](std::string_view data) {
        reader.start(data, 256, 256);
        reader.read(256, rows.data(), 256 * 3);
    };
    auto message = [&](std::string_view data) {
        try {
            read_all(data);
        } catch (const std::runtime_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(message("<html>not an image</html>").starts_with("not a JPEG image"));
    CHECK(message(std::string_view(tile).substr(0, tile.size() / 2)).starts_with("broken JPEG image"));
    std::string corrupt = tile;
    for (std::size_t i = corrupt.size() / 2; i < corrupt.size() / 2 + 64; ++i) corrupt[i] = static_cast<char>(0xFF - i % 7);
    CHECK_THROWS_AS(decode_jpeg(corrupt), std::runtime_error); // the whole-image decoder refuses it too
    CHECK(message(corrupt).starts_with("broken JPEG image"));
    reader.start(tile, 256, 256);
    CHECK_THROWS_WITH_AS(reader.read(257, rows.data(), 256 * 3), doctest::Contains("broken JPEG image"), std::runtime_error);
    CHECK_THROWS_WITH_AS(reader.start(tile, 512, 512), doctest::Contains("JPEG is 256x256 px, expected 512x512"), std::runtime_error);
    CHECK_THROWS_AS(reader.read(1, rows.data(), 256 * 3), std::runtime_error); // nothing started
    read_all(tile); // after every refusal, a good tile reads whole
    CHECK(std::equal(rows.begin(), rows.end(), whole.rgb.begin()));
}

TEST_CASE("JpegRowWriter: any band sizes give the bytes tjCompress2 gives for the whole image") {
    const auto tiles = real_tiles();
    std::mt19937 rng(11);
    JpegRowWriter writer;
    for (int round = 0; round < 24; ++round) {
        // A crop of a real tile, of sizes that are and are not multiples of the 16 px MCU.
        const auto src = decode_jpeg(tiles[static_cast<std::size_t>(round) % tiles.size()]);
        RgbImage img;
        img.width = 1 + int(rng() % 256), img.height = 1 + int(rng() % 256);
        if (round == 0) img.width = img.height = 256;
        for (int y = 0; y < img.height; ++y)
            img.rgb.insert(img.rgb.end(), src.rgb.begin() + y * 256 * 3, src.rgb.begin() + (y * 256 + img.width) * 3);
        const int quality = round % 3 == 0 ? 90 : 1 + int(rng() % 100);
        INFO(img.width << "x" << img.height << " px at quality " << quality);
        const auto expected = tj_compress(img, quality);
        REQUIRE(expected.size() > 100);
        writer.start(img.width, img.height, quality);
        for (int y = 0; y < img.height;) {
            const int n = std::min(img.height - y, 1 + int(rng() % 40));
            writer.write(img.rgb.data() + static_cast<std::size_t>(y) * img.width * 3, n, static_cast<std::size_t>(img.width) * 3);
            y += n;
        }
        CHECK(writer.finish() == expected);
        CHECK(encode_jpeg(img, quality) == expected);
    }
    // Too few or too many rows, or none started: an error, and the writer goes on.
    RgbImage img;
    img.width = img.height = 32;
    img.rgb.assign(32 * 32 * 3, 77);
    writer.start(32, 32, 90);
    writer.write(img.rgb.data(), 31, 32 * 3);
    CHECK_THROWS_WITH_AS(writer.finish(), doctest::Contains("1 rows not written"), std::runtime_error);
    writer.start(32, 32, 90);
    CHECK_THROWS_AS(writer.write(img.rgb.data(), 33, 32 * 3), std::runtime_error);
    CHECK_THROWS_AS(writer.finish(), std::runtime_error);
    CHECK_THROWS_AS(writer.start(32, 32, 0), std::invalid_argument);
    CHECK_THROWS_AS(writer.start(0, 32, 90), std::invalid_argument);
    writer.start(32, 32, 90);
    writer.write(img.rgb.data(), 32, 32 * 3);
    CHECK(writer.finish() == tj_compress(img, 90));
}
