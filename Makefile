# skyscript-build: the two commands are `make demo` and `make test`.
# Every target installs what is missing first (Debian packages only, as root).

BUILD_DIR ?= build
ASAN_DIR  ?= build-asan
JOBS      ?= $(shell nproc)
DEMO_OUT  ?= demo-out

# Debian packages the build, the tests and the benchmarks need.
DEB_PACKAGES := build-essential cmake pkg-config python3 \
  libosmium2-dev libprotozero-dev libgdal-dev libproj-dev libcurl4-openssl-dev \
  libsqlite3-dev libtbb-dev doctest-dev libssl-dev libturbojpeg0-dev libgeos-dev \
  nlohmann-json3-dev libtomlplusplus-dev zlib1g-dev libbz2-dev libexpat1-dev liblz4-dev \
  osmium-tool gdal-bin sqlite3

ID_SCHEMA_VERSION ?= 7.2.0

.PHONY: all deps build test demo bench asan vocabulary clean

all: build

# Install only what is not installed yet; apt-get update only when something is missing.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "deps: all Debian packages present"; fi

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

asan: deps
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DSKYSCRIPT_SANITIZE=ON
	cmake --build $(ASAN_DIR) -j $(JOBS)
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# The pipeline as far as it is built, on the bundled Monaco extract (© OpenStreetMap contributors, ODbL).
demo: build
	$(BUILD_DIR)/skyscript-build tests/data/osm/monaco-latest.osm.pbf -o $(DEMO_OUT)
	@echo; echo "== a few catalog rows (ogrinfo $(DEMO_OUT)/catalog.gpkg):"
	@sqlite3 -header -column $(DEMO_OUT)/catalog.gpkg \
	  "SELECT osm_type, osm_id, kind, focus_tag, max_gsd, round(area_m2) AS area_m2, round(length_m) AS length_m, substr(tags,1,60) AS tags FROM objects ORDER BY area_m2 DESC NULLS LAST LIMIT 8"
	@echo; echo "== captions of two catalog objects (rule style, then natural style):"
	$(BUILD_DIR)/skyscript-build caption leisure=stadium sport=soccer --around highway=primary --around building=yes --around building=yes --caption-style natural
	$(BUILD_DIR)/skyscript-build caption power=plant plant:source=solar --around power=minor_line,cables=3,voltage=16000
	@echo; echo "== an image tile from a bundled orthophoto (Lower Saxony):"
	$(BUILD_DIR)/skyscript-build fetch-one --raster tests/data/imagery/dop-rgb.tif --center 9.505,53.513 --side-m 384 --gsd 1 -o $(DEMO_OUT)/tile-dop.jpg
	@echo; echo "Catalog: $(DEMO_OUT)/catalog.gpkg (QGIS, or: ogrinfo -so $(DEMO_OUT)/catalog.gpkg objects); tile: $(DEMO_OUT)/tile-dop.jpg"
	@echo "Not built yet: plan, fetch, write, split, report (so no dataset or report.html yet)."

bench: build
	python3 bench/extract/run.py --binary $(BUILD_DIR)/skyscript-build
	bench/captions/run.sh $(BUILD_DIR)
	$(BUILD_DIR)/bench-fetch

# Regenerates tag_filters/default_tags.tsv and tag_names.tsv from the iD tagging schema
# (npm registry; `npm pack` fetches the tarball only, no install scripts run).
vocabulary:
	@command -v npm >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm)
	rm -rf $(BUILD_DIR)/id-tagging-schema && mkdir -p $(BUILD_DIR)/id-tagging-schema
	cd $(BUILD_DIR)/id-tagging-schema && npm pack --silent @openstreetmap/id-tagging-schema@$(ID_SCHEMA_VERSION) >/dev/null && tar xzf *.tgz
	python3 tag_filters/generate_vocabulary.py $(BUILD_DIR)/id-tagging-schema/package
	@git diff --stat -- tag_filters/default_tags.tsv tag_filters/tag_names.tsv 2>/dev/null || true

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(DEMO_OUT)
