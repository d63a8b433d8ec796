#!/usr/bin/env bash
# Issue 17's table in one command: mfl's SG flux evaluation / Euler stage and particle step
# against the NumPy peers of ../shared/bench, same machine, same sitting, machine and load
# recorded.
#
#   benches/peers.sh [OUT_DIR]        (default: target/peers; ~6 minutes on 2 idle cores)
#
# Needs python3 with numpy (`python3 -m pip install numpy`). Uses CARGO_TARGET_DIR if set.
# Environment: PEER_DIR (default ../shared/bench next to the repository), PARTICLE_STEPS
# (NumPy particle steps per case, default 20), MFL_BENCH_TIME (seconds per mfl particle case,
# default 1).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/target/peers}
peer=${PEER_DIR:-$repo/../shared/bench}
steps=${PARTICLE_STEPS:-20}
mkdir -p "$out"
cd "$repo"

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  lscpu | grep -E '^(Model name|CPU\(s\)|Thread|L1d|L2|L3)' | sed 's/  */ /g'
  echo "SIMD flags: $(grep -o -w -E 'avx2|fma|avx512f|avx512dq|avx512vl' /proc/cpuinfo | sort -u | tr '\n' ' ')"
  echo "rustc: $(rustc --version)"
  python3 -c 'import numpy, platform; print("numpy", numpy.__version__, "python", platform.python_version())'
  python3 -c 'import numpy as np; s = np.show_config(mode="dicts").get("SIMD Extensions", {}); print("numpy SIMD found:", " ".join(s.get("found", [])))' 2>/dev/null || true
} > "$out/machine.txt"
load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "load before: $(load)" > "$out/load.txt"
cargo build --release --locked -p mfl-pde --benches -q
cargo build --release --locked -p mfl-particles --benches -q

# 1. FV: mfl, then the peer, then mfl again (brackets the peer in time)
echo "fv mfl (1): $(load)" >> "$out/load.txt"
cargo bench --locked -q -p mfl-pde --bench fv -- peer_fv --output-format bencher 2>/dev/null \
  | grep '^test' > "$out/fv_mfl.txt"
cargo bench --locked -q -p mfl-pde --bench fv -- peer_paths --output-format bencher 2>/dev/null \
  | grep '^test' >> "$out/fv_mfl.txt"
echo "fv numpy: $(load)" >> "$out/load.txt"
(cd "$out" && OPENBLAS_NUM_THREADS=1 python3 "$peer/numpy_fv_step.py" > fv_numpy.txt)
echo "fv mfl (2): $(load)" >> "$out/load.txt"
cargo bench --locked -q -p mfl-pde --bench fv -- 'peer_fv/(flux|euler)/' --output-format bencher 2>/dev/null \
  | grep '^test' > "$out/fv_mfl2.txt"

# 2. particles: mfl on the default (widest) and the AVX2 copy, then the peer
echo "particles mfl: $(load)" >> "$out/load.txt"
MFL_BENCH_PEER=1 MFL_BENCH_TIME=${MFL_BENCH_TIME:-1} \
  cargo bench --locked -q -p mfl-particles --bench step 2>/dev/null | grep '^test' > "$out/particle_mfl.txt"
MFL_ISA=avx2 MFL_BENCH_PEER=1 MFL_BENCH_TIME=${MFL_BENCH_TIME:-1} \
  cargo bench --locked -q -p mfl-particles --bench step 2>/dev/null | grep '^test' >> "$out/particle_mfl.txt"
echo "particles numpy: $(load)" >> "$out/load.txt"
: > "$out/particle_numpy.txt"
for quad in trap gh340; do
  for n in 100000 1000000; do
    s=$steps; [ $n = 1000000 ] && s=$(( (steps + 4) / 5 ))
    (cd "$out" && OPENBLAS_NUM_THREADS=1 python3 "$peer/numpy_particle_step.py" --N $n --steps $s \
       --quad $quad --backends numpy,numpy_store) | sed "s/^/$quad /" >> "$out/particle_numpy.txt"
  done
done
echo "after: $(load)" >> "$out/load.txt"

python3 "$repo/benches/peers_table.py" "$out"
