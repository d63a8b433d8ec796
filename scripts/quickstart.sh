#!/usr/bin/env bash
# The main job: solve the quick-start example's PDE (1D tanh teacher–student) into
# quickstart.h5 and summarise the file. Installs libhdf5-dev/pkg-config first if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
cargo build --release --locked --quiet
./target/release/mfl check examples/quickstart_1d.toml
# --force: the quick start may be rerun; it replaces its own earlier quickstart.h5
./target/release/mfl solve examples/quickstart_1d.toml -o quickstart.h5 --force
./target/release/mfl inspect quickstart.h5
