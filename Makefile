# adcc: set-up, demo, tests, benchmarks. Every target runs the idempotent set-up first
# (LLVM 22 from apt when missing, .venv with the package installed editable).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.adcc-setup
LAUNCHER_SRC := launcher/adcc_launcher.c
LAUNCHER_STAMP := $(VENV)/.adcc-launchers
APT_PKGS := clang-22 lld-22 flang-22 llvm-22 python3-venv
# only for `make test` and `make bench` (tests/test_blas.py, bench/blas; Eigen 3 and Boost for
# tests/test_e2e_eigen.py and the IR corpus; cmake, meson and ninja for the real-build tests, so
# that CI runs them rather than skips them; clang's OpenMP runtime and headers for
# tests/test_openmp.py, bench/openmp; Open MPI for tests/test_mpi.py, bench/mpi): not for `make demo`
TEST_APT_PKGS := libopenblas-dev libeigen3-dev libboost-dev cmake meson ninja-build libomp-22-dev openmpi-bin libopenmpi-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEMO := $(firstword $(wildcard samples/demo.c) samples/hello_grad.c)

.PHONY: setup test-setup demo test test-fast test-slow test-torch test-tf bench-compile bench-ad-compile bench bench-sweep bench-bridges bench-gradbench fuzz-campaign clean-cache

# apt-get install the packages of $(1) that are missing
define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update && $(SUDO) apt-get install -y $$missing; \
	fi
endef

setup: $(STAMP) $(LAUNCHER_STAMP)
	$(call apt_install,$(APT_PKGS))

test-setup: setup
	$(call apt_install,$(TEST_APT_PKGS))

$(STAMP): pyproject.toml
	@command -v python3 >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y python3 python3-venv; }
	@python3 -c 'import ensurepip' 2>/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y python3-venv; }
	@[ -x $(PY) ] || python3 -m venv $(VENV)
	@# compat mode: a plain path entry, no import hook (keeps interpreter start-up short)
	$(PY) -m pip install -q -e '.[test]' --config-settings editable_mode=compat 2>/dev/null \
	  || $(PY) -m pip install -q -e '.[test]'
	@$(PY) -m compileall -q adcc >/dev/null || true
	@touch $@

# Launchers (adcc/driver/launchers.py): adcc/adcc++/adflang are the native fast-path launcher
# (launcher/adcc_launcher.c, `cc -O2`, with zlib to compress the embedded bitcode when zlib.h is
# there), which execs the lean Python ones (adcc-py, ...: python -IS) for everything it does not
# do itself. Without a C compiler: the Python launchers only.
$(LAUNCHER_STAMP): $(STAMP) $(LAUNCHER_SRC) adcc/driver/launchers.py
	@cc=$$(command -v cc || command -v gcc || command -v clang-22 || command -v clang); \
	new=$(VENV)/bin/.adcc-launcher.new; \
	if [ -n "$$cc" ] && { "$$cc" -O2 -Wall -DADCC_ZLIB '-DADCC_INCLUDE_DIR="$(abspath adcc/include)"' -o $$new $(LAUNCHER_SRC) -lz 2>/dev/null \
	                      || "$$cc" -O2 -Wall '-DADCC_INCLUDE_DIR="$(abspath adcc/include)"' -o $$new $(LAUNCHER_SRC); }; then \
	  $(VENV)/bin/adcc-tool install-launchers --native $$new >/dev/null; rc=$$?; rm -f $$new; [ $$rc = 0 ]; \
	else \
	  echo "setup: could not build $(LAUNCHER_SRC); using the Python launchers"; \
	  rm -f $$new; $(VENV)/bin/adcc-tool install-launchers --no-native >/dev/null; \
	fi
	@touch $@

demo: setup
	@mkdir -p build
	$(VENV)/bin/adcc -O2 $(DEMO) -o build/demo -lm
	./build/demo

test: test-setup
	@$(PY) -m compileall -q adcc >/dev/null || true
	$(PY) -m pytest -n auto -q -rs

# Bridge tests that need a large framework (issue #12): installed into the venv here only.
# torch==2.13.0 is the CPU build; `make test` skips these tests, saying why.
test-torch: setup
	@$(PY) -c 'import torch' 2>/dev/null || $(PY) -m pip install -q torch==2.13.0
	$(PY) -m pytest -n auto -q -rs tests/test_bridge_torch.py

test-tf: setup
	@$(PY) -c 'import tensorflow' 2>/dev/null || $(PY) -m pip install -q tensorflow-cpu
	$(PY) -m pytest -n auto -q -rs tests/test_bridge_tensorflow.py

# the long campaigns (pytest -m slow): driver fuzzing against clang, the 1,500-function unit
# (and the ThreadSanitizer builds of tests/test_openmp.py)
test-slow: test-setup
	$(PY) -m pytest -n auto -q -m slow

bench-compile: setup
	$(PY) bench/compile_bench.py

# Compile time of differentiated programs (#17 point 5, opt-in): the generated unit of 100, 400
# and 1,500 functions against clang-22 -O2 (target: at most 4x), and the test programs' classes;
# AD_COMPILE_ARGS="--classes big --sizes 1500" for the issue's ratio alone.
bench-ad-compile: setup
	$(PY) bench/ad_compile_time.py --markdown build/ad_compile_time.md $(AD_COMPILE_ARGS)

# AD benchmarks (#5): adcc -O2, adcc --ad-stage=unoptimized and JAX; writes bench/results/results.{md,json,png}.
# matplotlib and jax go into the venv here only (not package dependencies, not `make test`).
CHECKPOINT_QUICK = --sizes 100000,1000000 --full-max 100000 --samples 1
bench: test-setup
	@$(PY) -c 'import matplotlib, jax' 2>/dev/null || $(PY) -m pip install -q matplotlib 'jax[cpu]' \
	  || echo "bench: could not install matplotlib/jax; running without them"
	$(PY) bench/run_bench.py $(BENCH_ARGS)
	$(PY) bench/kernels/run_ratio.py $(BENCH_ARGS)
	$(PY) bench/blas/run_blas.py $(BENCH_ARGS)
	$(PY) bench/openmp/run_openmp.py $(BENCH_ARGS)
	$(PY) bench/mpi/run_mpi.py $(BENCH_ARGS)
	$(PY) bench/run_higher.py $(BENCH_ARGS)
	$(PY) bench/run_checkpoint.py $(if $(findstring --quick,$(BENCH_ARGS)),$(CHECKPOINT_QUICK))
	@$(MAKE) --no-print-directory bench-sweep SWEEP_ARGS="$(if $(findstring --quick,$(BENCH_ARGS)),--tiny)"
	@$(MAKE) --no-print-directory bench-bridges BENCH_ARGS="$(BENCH_ARGS)"

# Scaling sweep (#17 point 6): gradient time, tape bytes and peak RSS against problem size (GMM 1k-10k
# points, ODE 1e4-1e6 steps, LSTM 256-4096 characters) -> bench/results/sweep.{md,json,png};
# SWEEP_ARGS="--only ode_rk4 --repeat 1" for a part of it.
bench-sweep: setup
	@$(PY) -c 'import matplotlib' 2>/dev/null || $(PY) -m pip install -q matplotlib \
	  || echo "bench-sweep: could not install matplotlib; no chart"
	$(PY) bench/run_sweep.py $(SWEEP_ARGS)

# GradBench's C++ programs written for Enzyme (#17): its enzyme tool built with adcc++, its manual
# and tapenade tools with clang, same flags and inputs -> bench/results/gradbench.{md,json}.
# GRADBENCH=path of a GradBench checkout (not vendored); GRADBENCH_ARGS="--only gmm --count" for
# a part of it with instruction counts (callgrind).
bench-gradbench: setup
	@[ -n "$(GRADBENCH)" ] || { echo "bench-gradbench: set GRADBENCH=path to a GradBench checkout (gradbench/gradbench on GitHub)" >&2; exit 2; }
	$(call apt_install,nlohmann-json3-dev valgrind)
	@$(PY) -c 'import numpy' 2>/dev/null || $(PY) -m pip install -q numpy
	$(PY) bench/gradbench/run_gradbench.py --gradbench "$(GRADBENCH)" $(GRADBENCH_ARGS)

# Bridge overhead and GMM gradient from JAX vs C (#12) -> bench/results/bridges.{md,json}
bench-bridges: setup
	@$(PY) -c 'import torch' 2>/dev/null || $(PY) -m pip install -q torch==2.13.0 \
	  || echo "bench-bridges: could not install torch; its rows are skipped"
	$(PY) bench/bridges.py $(BENCH_ARGS)

# A random-program campaign (#9, opt-in): 2000 programs of the widened grammar at -O0/-O2/-O3, each
# checking reverse and forward mode against finite differences; report in build/fuzz-campaign/.
# FUZZ_ARGS="--programs 200" for a shorter one.
fuzz-campaign: setup
	$(PY) tests/fuzz/campaign.py --out build/fuzz-campaign $(FUZZ_ARGS)

clean-cache:
	rm -rf "$${XDG_CACHE_HOME:-$$HOME/.cache}/adcc"
