#!/usr/bin/env bash
# The main job: validate the quick-start example, solve its PDE and write quickstart.h5.
# Installs libhdf5-dev/pkg-config first if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
cargo run --release --locked -- check examples/quickstart_1d.toml
