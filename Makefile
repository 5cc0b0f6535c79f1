# The front door. On a fresh Debian 12 machine, `make run` and `make test` are all you need:
# each installs what is missing (deps), builds, then runs the system or every test tier.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# ccache hashes paths relative to the checkout, so a fresh clone reuses the cache.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true

.PHONY: all deps configure build test test-unit test-integration run bench images fuzz format clean

all: build

deps:
	@tools/dev/deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

configure: $(BUILD_DIR)/build.ninja

build: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Every tier: unit, integration (real Kafka + PostgreSQL), and the later e2e/browser/deploy
# tiers. CTest fixtures start the broker and PostgreSQL once and stop them at the end.
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

test-integration: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L integration

# Starts the broker (and the services as they exist) in the foreground; Ctrl-C stops all.
run: build
	@tools/dev/run.sh $(BUILD_DIR)

# QUICK=1: fewer events and pairs (about 5 minutes instead of about 10 on 2 cores).
bench: build
	@QUICK=$(QUICK) tools/dev/bench.sh $(BUILD_DIR)

# One runtime image per service (podman, local Debian 12 base), tagged as deploy/k8s names them.
images: build
	@tools/dev/images.sh $(BUILD_DIR)

# Every fuzz target for SECONDS each (default 60) in the clang build $(BUILD_DIR)/fuzz-clang;
# the fuzz CTest tier of `make test` runs each for a short fixed time instead. fuzz/README.md.
SECONDS ?= 60
fuzz: deps
	@PC_FUZZ_BUILD_DIR=$(abspath $(BUILD_DIR))/fuzz-clang JOBS=$(JOBS) tools/dev/fuzz.sh all $(SECONDS)

format:
	@command -v clang-format >/dev/null || { echo "apt-get install clang-format"; exit 1; }
	git ls-files '*.h' '*.cc' '*.proto' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) .local
