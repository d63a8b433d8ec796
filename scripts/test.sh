#!/usr/bin/env bash
# The whole test suite: unit tests, end-to-end CLI tests, convergence orders, and the
# shortened runs of every example. Installs libhdf5-dev/pkg-config first if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
cargo test --workspace --all-targets --locked "$@"
