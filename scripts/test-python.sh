#!/usr/bin/env bash
# The Python package's tests: a venv in target/py-venv (created, and the packages installed
# from PyPI, only when missing), the extension built by maturin into a wheel (its Rust crate
# python/ is a separate cargo workspace, so the root's `cargo test` never links PyO3), installed
# with pip, then pytest over python/tests (the numbers are compared with the CLI binary
# target/debug/mfl, built here if missing) and the notebook examples/notebooks/quickstart.ipynb
# executed by nbclient. Also fmt --check and clippy -D warnings of the python/ crate.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
venv="$root/target/py-venv"
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "mfl: installing python3-venv" >&2
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
py="$venv/bin/python"
need=(maturin pytest h5py h5netcdf xarray numpy matplotlib nbclient nbformat ipykernel tqdm)
if ! "$py" -c 'import maturin, pytest, h5py, h5netcdf, xarray, numpy, matplotlib, nbclient, nbformat, ipykernel, tqdm' >/dev/null 2>&1; then
  "$py" -m pip install -q --upgrade pip
  "$py" -m pip install -q "${need[@]}"
fi
cargo fmt --manifest-path python/Cargo.toml --check
# the python/ crate's own target dir: its dependencies are built with its own profile
pytarget="$CARGO_TARGET_DIR/py-build"
PYO3_PYTHON="$py" CARGO_TARGET_DIR="$pytarget" \
  cargo clippy --manifest-path python/Cargo.toml --all-targets --locked -- -D warnings
rm -rf "$CARGO_TARGET_DIR/wheels"
(cd python && PATH="$venv/bin:$PATH" CARGO_TARGET_DIR="$pytarget" \
  maturin build --profile dev --locked -i "$py" -o "$CARGO_TARGET_DIR/wheels" -q)
"$py" -m pip install -q --force-reinstall --no-deps "$CARGO_TARGET_DIR"/wheels/mfl-*.whl
cargo build --locked --bin mfl -q
export MFL_BIN="$CARGO_TARGET_DIR/debug/mfl"
# run from the tests' folder so `import mfl` is the installed package, not python/mfl
cd python/tests
"$py" -m pytest -q -p no:cacheprovider "$@" .
