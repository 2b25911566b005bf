# Thin wrapper over CMake. Every target installs missing Debian packages first.
#   make          build build/runner and build/plugins/*.so
#   make run      build, run configs/momentum_sweep.yaml into results/, draw its figures
#   make test     build, then run the whole test suite (Criterion via CTest)
#   make asan     the test suite again under AddressSanitizer + UBSan (build-asan/)
#   make valgrind the end-to-end tests with the runner under valgrind memcheck
#   make fuzz     each libFuzzer target for FUZZ_SECONDS (clang; build-fuzz/)
#   make bench    the benchmarks against numpy / PyTorch (bench/README.md)
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 60

.PHONY: all deps build run test asan valgrind fuzz bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/runner configs/momentum_sweep.yaml --force
	tools/runner-plot results/momentum_sweep.h5

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -LE valgrind

asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRUNNER_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	ctest --test-dir build-asan --output-on-failure -j $(JOBS) -LE slow

valgrind: build
	@RUNNER_DEPS=valgrind scripts/install-deps.sh
	@cmake -S . -B $(BUILD) >/dev/null
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L valgrind

fuzz:
	@RUNNER_DEPS=fuzz scripts/install-deps.sh
	@cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DRUNNER_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzz_config fuzz_expr fuzz_idx fuzz_results
	tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

bench: build
	@RUNNER_DEPS=bench scripts/install-deps.sh
	bench/sweep.sh

clean:
	rm -rf $(BUILD) build-asan build-fuzz
