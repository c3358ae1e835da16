#pragma once
// Resamples an RGB mosaic of Web Mercator (EPSG:3857) tiles onto a tile grid, bilinear.
// The xyz source's hot path: GDALWarp spends ~4 ms per call on setup (transformer,
// warp operation, output dataset) before its kernel runs, which made warping two
// thirds of an image's CPU; this resampler maps a coarse lattice of output pixels
// through PROJ, interpolates between lattice points (the tiles are small), and
// samples the mosaic directly: under a millisecond for a 384 px tile. Sources of the
// `gdal` kind, of any CRS and layout, keep GDALWarp.

#include "imagery/rgb_image.hpp"
#include "imagery/tile_grid.hpp"

#include <utility>
#include <vector>

namespace skyscript::imagery {

// In parts, so that neither the mosaic nor the image need be held whole (xyz_source decodes
// the mosaic rows a band of output rows samples, and encodes each band as it is made): the
// grid's lattice of exactly projected points in the mosaic's pixels, the mosaic rows a band of
// output rows samples (unclamped), and the band resampled from a window of the mosaic holding
// its rows from `first_row` on, into `band`: rows [row_begin, row_end) of the image, the grid's
// width, all black and invalid before (the pixels no valid mosaic pixel reaches stay so).
// `mosaic_gt`: GDAL geotransform of the mosaic in EPSG:3857 metres (north up); a mosaic
// across the antimeridian may run past x = +20,037,508 m (its eastern tiles continue it).
// Pixels whose four neighbours are all invalid (missing tiles) or outside are invalid.
// `all_valid`: the caller knows every mosaic pixel is valid (no tile missing), so the mask
// need not be read.
struct MercatorLattice {
    int lw = 0, lh = 0;
    std::vector<double> sx, sy;
};
MercatorLattice mercator_lattice(const double mosaic_gt[6], int mosaic_width, const TileGrid& grid);
int lattice_band_rows(); // output rows a band of lattice cells spans
std::pair<int, int> lattice_source_rows(const MercatorLattice& lattice, int row_begin, int row_end);
void resample_mercator_rows(const MercatorLattice& lattice, const RgbImage& window, int first_row, bool all_valid, int row_begin, int row_end,
                            RgbImage& band);

} // namespace skyscript::imagery
