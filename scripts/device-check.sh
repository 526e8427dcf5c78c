#!/usr/bin/env bash
# The GPU check (docs/gpu.md): provider detection, a train-step parity check against the CPU and
# training throughput, in under five minutes. Needs this repository with its node_modules (and,
# for CUDA, `npm run setup:cuda`). Results also go to $OUT/device-check.md when OUT is set.
set -euo pipefail
cd "$(dirname "$0")/.."
exec timeout 300 node --import tsx scripts/device-check.ts "$@"
