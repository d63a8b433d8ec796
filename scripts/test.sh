#!/usr/bin/env bash
# The whole test suite: formatting (cargo fmt --check), lints (cargo clippy -D warnings on every
# target, missing docs included), the API docs (cargo doc, warnings denied), unit tests,
# end-to-end CLI tests, convergence orders, and the shortened runs of every example; then the
# Python package (scripts/test-python.sh: a venv, maturin, pytest and the notebook). Installs
# libhdf5-dev/pkg-config first if missing. MFL_SKIP_PYTHON=1 leaves the Python part out.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
cargo test --workspace --all-targets --locked "$@"
[ "${MFL_SKIP_PYTHON:-0}" = 1 ] || bash scripts/test-python.sh
