#!/usr/bin/env bash
# Make sure the system libraries mfl links against are present (Debian/Ubuntu):
# libhdf5-dev (HDF5 C library and headers) and pkg-config. Installs them when missing.
set -euo pipefail
missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if ! { pkg-config --exists hdf5 2>/dev/null || pkg-config --exists hdf5-serial 2>/dev/null \
       || dpkg -s libhdf5-dev >/dev/null 2>&1; }; then
  missing+=(libhdf5-dev)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
echo "mfl: installing missing system packages: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "mfl: need ${missing[*]} but I am not root and there is no sudo." >&2
  echo "     Install them yourself: apt-get install ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "mfl: need ${missing[*]} (HDF5 ≥ 1.10 with headers, and pkg-config); no apt-get here to install them." >&2
  exit 1
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
