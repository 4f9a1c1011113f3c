#!/usr/bin/env bash
# hh_jax throughput at N = 1e4 ... 1e6, float32 and float64, on the default JAX
# device (see benchmarks/gpu.py); `--quick` for small N (a CPU check).
#   bash benchmarks/gpu.sh [--quick] [--budget SECONDS] [--sizes N,N,...]
set -euo pipefail
cd "$(dirname "$0")/.."
exec python benchmarks/gpu.py "$@"
