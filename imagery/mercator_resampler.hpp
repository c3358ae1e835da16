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

namespace skyscript::imagery {

// `mosaic_gt`: GDAL geotransform of the mosaic in EPSG:3857 metres (north up); a mosaic
// across the antimeridian may run past x = +20,037,508 m (its eastern tiles continue it).
// Pixels whose four neighbours are all invalid (missing tiles) or outside are invalid.
// `all_valid`: the caller knows every mosaic pixel is valid (no tile missing), so the mask
// need not be read.
RgbImage resample_mercator_mosaic(const RgbImage& mosaic, const double mosaic_gt[6], const TileGrid& grid, bool all_valid = false);

} // namespace skyscript::imagery
