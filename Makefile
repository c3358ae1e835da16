# skyscript-build: the two commands are `make demo` and `make test`.
# Every target installs what is missing first (Debian packages only, as root).

BUILD_DIR ?= build
ASAN_DIR  ?= build-asan
JOBS      ?= $(shell nproc)
DEMO_OUT  ?= demo-out

# Debian packages the build, the tests and the benchmarks need.
DEB_PACKAGES := build-essential cmake pkg-config python3 \
  libosmium2-dev libprotozero-dev libgdal-dev libproj-dev libcurl4-openssl-dev \
  libsqlite3-dev libtbb-dev doctest-dev libssl-dev libturbojpeg0-dev libjpeg62-turbo-dev libgeos-dev \
  nlohmann-json3-dev libtomlplusplus-dev zlib1g-dev libbz2-dev libexpat1-dev liblz4-dev \
  osmium-tool gdal-bin sqlite3 openssl python3-pil python3-pandas chromium \
  slurm-wlm munge python3-yaml python3-jsonschema python3-rdflib nginx-light \
  python3-torch python3-torchvision \
  clang libclang-rt-dev llvm

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

# The whole pipeline on the bundled Monaco extract (© OpenStreetMap contributors, ODbL). No real
# imagery of Monaco exists offline, so the imagery is a RENDERING of the extract's own geometry
# (tests/render_osm_raster.sh: GDAL's tools, a flat colour per feature class, 0.5 m).
DEMO_PBF    := tests/data/osm/monaco-latest.osm.pbf
DEMO_RASTER := $(DEMO_OUT)/monaco-rendering.tif
demo: build
	@mkdir -p $(DEMO_OUT)
	@if [ ! -f $(DEMO_RASTER) ]; then \
	  echo "== rendering the extract's geometry as stand-in imagery: $(DEMO_RASTER)"; \
	  $(BUILD_DIR)/skyscript-build extract $(DEMO_PBF) -o $(DEMO_OUT)/rendering-src -q && \
	  tests/render_osm_raster.sh $(DEMO_OUT)/rendering-src/catalog.gpkg $(DEMO_RASTER) 7.405,43.723,7.44,43.753 0.5 && \
	  rm -rf $(DEMO_OUT)/rendering-src; fi
	@printf '[[source]]\nalias = "RENDER"\nkind = "gdal"\npath = "%s"\nyear = 2021\nlicence = "ODbL-1.0"\nattribution = "a rendering of OpenStreetMap data, (c) OpenStreetMap contributors"\n' \
	  "$(abspath $(DEMO_RASTER))" > $(DEMO_OUT)/sources.toml
	@echo "== skyscript-build $(DEMO_PBF) -o $(DEMO_OUT) --sources $(DEMO_OUT)/sources.toml"
	$(BUILD_DIR)/skyscript-build $(DEMO_PBF) -o $(DEMO_OUT) --sources $(DEMO_OUT)/sources.toml
	@echo; echo "== the first rows of $(DEMO_OUT)/SkyScript_train_unfiltered.csv:"
	@head -4 $(DEMO_OUT)/SkyScript_train_unfiltered.csv
	@echo; echo "Dataset: $(DEMO_OUT)/images1/*.jpg (cut from a rendering, not a photograph), $(DEMO_OUT)/meta1/*.pickle,"
	@echo "$(DEMO_OUT)/meta.jsonl; state: $(DEMO_OUT)/state.sqlite."
	@echo "Splits: $(DEMO_OUT)/SkyScript_{train_unfiltered,val,test}.csv (Monaco is small: --split-block auto narrows its blocks)."
	@echo "Dataset card: $(DEMO_OUT)/README.md (licences and attribution included), $(DEMO_OUT)/croissant.json."
	@echo "Open $(DEMO_OUT)/report.html in a browser: what the build got, what it did not, and why."

bench: build
	python3 bench/extract/run.py --binary $(BUILD_DIR)/skyscript-build
	/usr/bin/python3 bench/read_sample/run.py --binary $(BUILD_DIR)/skyscript-build
	bench/captions/run.sh $(BUILD_DIR)
	$(BUILD_DIR)/bench-fetch
	$(BUILD_DIR)/bench-pipeline
	$(BUILD_DIR)/bench-earthengine
	$(BUILD_DIR)/bench-stac
	$(BUILD_DIR)/bench-polish

# Regenerates tag_filters/default_tags.tsv and tag_names.tsv from the iD tagging schema
# (npm registry; `npm pack` fetches the tarball only, no install scripts run).
vocabulary:
	@command -v npm >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm)
	rm -rf $(BUILD_DIR)/id-tagging-schema && mkdir -p $(BUILD_DIR)/id-tagging-schema
	cd $(BUILD_DIR)/id-tagging-schema && npm pack --silent @openstreetmap/id-tagging-schema@$(ID_SCHEMA_VERSION) >/dev/null && tar xzf *.tgz
	python3 tag_filters/generate_vocabulary.py $(BUILD_DIR)/id-tagging-schema/package
	@git diff --stat -- tag_filters/default_tags.tsv tag_filters/tag_names.tsv 2>/dev/null || true

# Fuzzing with libFuzzer (tests/fuzz): builds the fuzz targets with clang, ASan and UBSan
# in $(FUZZ_DIR), runs each for FUZZ_SECONDS on a copy of its corpus (tests/fuzz/corpus/NAME,
# with tests/fuzz/NAME.dict when there is one), one at a time, and fails if any finds a
# crash (the input is kept in $(FUZZ_DIR)/fuzz-run/NAME/). FUZZ_MERGE=1 adds the new inputs
# that reach new code to tests/fuzz/corpus. FUZZ_TARGETS=pbf picks targets; FUZZ_ARGS
# passes libFuzzer options (e.g. FUZZ_ARGS="-fork=1 -ignore_crashes=1" to go on past one).
FUZZ_DIR     ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= tag_list sources_toml captions pickle pbf
FUZZ_MERGE   ?= 0
FUZZ_ARGS    ?=
.PHONY: fuzz
fuzz: deps
	cmake -S . -B $(FUZZ_DIR) -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSKYSCRIPT_FUZZ=ON
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	@failed=""; for t in $(FUZZ_TARGETS); do \
	  run=$(FUZZ_DIR)/fuzz-run/$$t; rm -rf $$run; mkdir -p $$run/corpus $$run/tmp; \
	  cp tests/fuzz/corpus/$$t/* $$run/corpus/; \
	  echo "== fuzz_$$t: $(FUZZ_SECONDS) s from $$(ls $$run/corpus | wc -l) corpus inputs (log: $$run/log)"; \
	  dict=""; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
	  if TMPDIR=$$run/tmp $(FUZZ_DIR)/tests/fuzz/fuzz_$$t $$run/corpus -max_total_time=$(FUZZ_SECONDS) -timeout=30 \
	       -artifact_prefix=$$run/ -print_final_stats=1 $$dict $(FUZZ_ARGS) >$$run/log 2>&1; then \
	    grep -E "^stat::number_of_executed_units|^stat::average_exec_per_sec|^stat::new_units_added" $$run/log | tr '\n' ' '; echo; \
	    if [ "$(FUZZ_MERGE)" = 1 ]; then \
	      TMPDIR=$$run/tmp $(FUZZ_DIR)/tests/fuzz/fuzz_$$t -merge=1 tests/fuzz/corpus/$$t $$run/corpus >>$$run/log 2>&1 && \
	      echo "   merged: tests/fuzz/corpus/$$t now holds $$(ls tests/fuzz/corpus/$$t | wc -l) inputs"; fi; \
	  else \
	    failed="$$failed $$t"; grep -E "^==[0-9]+==ERROR|invariant broken|^SUMMARY|Test unit written" $$run/log | head -5; \
	  fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: FAILED:$$failed (crashing inputs: $(FUZZ_DIR)/fuzz-run/NAME/crash-*)"; exit 1; fi; \
	echo "fuzz: no crash in $(FUZZ_TARGETS)"

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(DEMO_OUT)
