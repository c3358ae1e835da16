#!/usr/bin/env bash
# Renders a catalog's own geometry into an RGB GeoTIFF with GDAL's command-line tools, a
# flat colour per feature class: the stand-in imagery of the demo and of the end-to-end
# tests (no real imagery of the bundled extracts exists offline). It is a rendering, not
# a photograph: every image cut from it says so in the demo's source alias (RENDER).
#
#   tests/render_osm_raster.sh CATALOG.gpkg OUT.tif W,S,E,N [GSD_M]
#
# The raster is in the UTM zone of the box's centre, GSD_M metres a pixel (default 0.5).
set -euo pipefail
catalog=$1 out=$2 box=$3 gsd=${4:-0.5}
IFS=, read -r w s e n <<<"$box"
zone=$(awk -v w="$w" -v e="$e" 'BEGIN { printf "%d", int(((w + e) / 2 + 180) / 6) + 1 }')
hemi=$(awk -v s="$s" -v n="$n" 'BEGIN { print ((s + n) / 2 >= 0) ? 326 : 327 }')
epsg="${hemi}$(printf %02d "$zone")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The objects in the box, in the raster's CRS.
ogr2ogr -q -f GPKG "$tmp/objects.gpkg" "$catalog" objects -spat "$w" "$s" "$e" "$n" -t_srs "EPSG:$epsg" -nln objects
corners=$(printf '%s %s\n%s %s\n' "$w" "$s" "$e" "$n" | gdaltransform -s_srs EPSG:4326 -t_srs "EPSG:$epsg" -output_xy | tr '\n' ' ')
read -r xmin ymin xmax ymax <<<"$corners"
# Background: bare ground. Then classes, later ones over earlier ones.
gdal_rasterize -q -init 205 200 185 -burn 205 -burn 200 -burn 185 -ot Byte -of GTiff -a_srs "EPSG:$epsg" \
  -te "$xmin" "$ymin" "$xmax" "$ymax" -tr "$gsd" "$gsd" -co COMPRESS=DEFLATE -co TILED=YES -co PHOTOMETRIC=RGB \
  -where "0" -l objects "$tmp/objects.gpkg" "$out" >/dev/null
burn() { # WHERE R G B
  gdal_rasterize -q -b 1 -b 2 -b 3 -burn "$2" -burn "$3" -burn "$4" -where "$1" -l objects "$tmp/objects.gpkg" "$out" >/dev/null
}
burn "kind = 'a' AND focus_tag NOT LIKE 'building=%'" 175 165 145
burn "kind = 'a' AND (focus_tag LIKE 'leisure=park' OR focus_tag LIKE 'leisure=garden' OR focus_tag LIKE 'leisure=pitch' OR focus_tag LIKE 'landuse=grass' OR focus_tag LIKE 'landuse=forest' OR focus_tag LIKE 'landuse=meadow' OR focus_tag LIKE 'natural=wood' OR focus_tag LIKE 'natural=scrub' OR focus_tag LIKE 'natural=grassland' OR focus_tag LIKE 'landuse=recreation_ground')" 95 150 75
burn "kind = 'a' AND (focus_tag LIKE 'natural=water' OR focus_tag LIKE 'waterway=%' OR focus_tag LIKE 'leisure=swimming_pool' OR focus_tag LIKE 'landuse=basin' OR focus_tag LIKE 'leisure=marina')" 40 90 175
burn "kind = 'w' AND focus_tag LIKE 'highway=%'" 70 70 70
burn "kind = 'w' AND focus_tag NOT LIKE 'highway=%'" 120 110 100
burn "kind = 'a' AND focus_tag LIKE 'building=%'" 185 80 60
burn "kind = 'n'" 30 110 40
