#!/bin/sh
# Regenerates imagery/footprints/*.geojson, the built-in sources' coverage polygons
# (imagery/footprints/README.md says what they are and where they come from).
#
# Source: Natural Earth 1:10m Admin-0/Admin-1 v4.1.0 (public domain), as generalised and
# shipped by QGIS in resources/data/world_map.gpkg, which Debian 12 packages in
# qgis-common 3.22.16+dfsg-1. The package is not installed: `apt-get download` fetches
# the .deb and `dpkg-deb -x` unpacks it into a temporary folder. Set WORLD_MAP=FILE to use
# a world_map.gpkg you already have.
#
# Needs (a maintainer tool: the Makefile installs none of this beyond gdal-bin):
#   gdal-bin with SpatiaLite (Debian's has it), apt-get and dpkg-deb, python3 (standard library).
#
# Each footprint: the features chosen below, dissolved, projected to a Lambert azimuthal
# equal-area projection centred on the footprint, buffered outward by BUFFER_M, simplified
# (Douglas-Peucker, topology preserved) with tolerance TOL_M, back to WGS 84, coordinates
# rounded to 5 decimals (~1 m). As every point of the buffered outline is within TOL_M of
# the simplified one, the footprint holds the source outline grown by at least
# BUFFER_M - TOL_M (= 1 km here) everywhere: objects on a border are not lost, at the cost
# of a sliver of the neighbour (which the planner's fallback absorbs).
#
# Usage: tools/make_footprints.sh [OUT_DIR]   (default: imagery/footprints beside this script)
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/imagery/footprints}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -n "${WORLD_MAP:-}" ]; then
  gpkg=$WORLD_MAP
else
  (cd "$work" && apt-get download qgis-common >/dev/null 2>&1) || {
    echo "make_footprints: apt-get download qgis-common failed (run apt-get update first?)" >&2; exit 1; }
  dpkg-deb -x "$work"/qgis-common_*.deb "$work/qgis"
  echo "source: $(basename "$work"/qgis-common_*.deb)"
  gpkg=$work/qgis/usr/share/qgis/resources/data/world_map.gpkg
fi
[ -f "$gpkg" ] || { echo "make_footprints: no $gpkg" >&2; exit 1; }

# make NAME LON0 LAT0 BUFFER_M TOL_M HOLES SQL   (SQL selects one dissolved geometry named geom;
# HOLES=keep keeps the holes of the source outline, HOLES=drop drops every hole: the ones the
# buffer closes between islands and bays are water the imagery covers, and enclaves such as
# Campione d'Italia in Switzerland are covered by the national products too)
make() {
  name=$1 lon0=$2 lat0=$3 buffer=$4 tol=$5 holes=$6 sql=$7
  laea="+proj=laea +lat_0=$lat0 +lon_0=$lon0 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
  rm -f "$work/$name".*
  ogr2ogr -f GPKG "$work/$name.dissolved.gpkg" "$gpkg" -dialect SQLite -sql "$sql" -nln shape -nlt MULTIPOLYGON
  ogr2ogr -f GPKG "$work/$name.laea.gpkg" "$work/$name.dissolved.gpkg" -t_srs "$laea" -nln shape
  ogr2ogr -f GPKG "$work/$name.simple.gpkg" "$work/$name.laea.gpkg" -dialect SQLite -nln shape -nlt MULTIPOLYGON \
    -sql "SELECT ST_SimplifyPreserveTopology(ST_Buffer(geom, $buffer), $tol) AS geom FROM shape"
  ogr2ogr -f GeoJSON "$work/$name.geojson" "$work/$name.simple.gpkg" -t_srs EPSG:4326 \
    -lco RFC7946=YES -lco COORDINATE_PRECISION=5 -nln "$name"
  python3 - "$work/$name.geojson" "$out/$name.geojson" "$name" "$buffer" "$tol" "$holes" <<'PY'
import json, sys
src, dst, name, buffer, tol, holes = sys.argv[1:]
fc = json.load(open(src))
geoms = [f["geometry"] for f in fc["features"] if f["geometry"]]
polys = []
for g in geoms:
    polys += [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
if holes == "drop":
    polys = [p[:1] for p in polys]
vertices = sum(len(r) - 1 for p in polys for r in p)
doc = {"type": "Feature",
       "properties": {"name": name,
                      "source": "Natural Earth 1:10m v4.1.0 (public domain) via QGIS world_map.gpkg",
                      "buffer_m": int(buffer), "simplify_m": int(tol), "vertices": vertices},
       "geometry": {"type": "MultiPolygon", "coordinates": polys}}
with open(dst, "w") as f:
    f.write(json.dumps(doc, separators=(",", ":")).replace("]],[[", "]],\n[[") + "\n")
print(f"{name}: {len(polys)} parts, {sum(len(p) - 1 for p in polys)} holes, {vertices} vertices")
PY
}

mkdir -p "$out"
# SWISSIMAGE: Switzerland with Liechtenstein.
make ch 8.2 46.8 2000 1000 drop "SELECT ST_Union(geom) AS geom FROM countries WHERE iso_a2 IN ('CH', 'LI')"
# PNOA: Spain with the Balearic and Canary Islands, Ceuta and Melilla.
make es -6 34 3000 2000 drop "SELECT ST_Union(geom) AS geom FROM countries WHERE iso_a2 = 'ES'"
# LGB orthophotos: the state of Brandenburg (Berlin, the enclave, stays a hole).
make de 13.4 52.4 2000 1000 keep "SELECT ST_Union(geom) AS geom FROM states_provinces WHERE adm0_a3 = 'DEU' AND name = 'Brandenburg'"
# NLS Finland: Finland with Åland.
make fi 25 65 3000 2000 drop "SELECT ST_Union(geom) AS geom FROM countries WHERE iso_a2 IN ('FI', 'AX')"
# NAIP: the conterminous United States (48 states and DC; not Alaska, Hawaii or the territories).
make us -96 38 6000 5000 drop "SELECT ST_Union(geom) AS geom FROM states_provinces WHERE adm0_a3 = 'USA' AND name NOT IN ('Alaska', 'Hawaii')"
