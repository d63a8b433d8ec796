#!/usr/bin/env python3
"""Time to accuracy (issue 14): wall time of `mfl solve` on one thread against the largest
relative error in R(rho_t) and F(rho_t) over the output times, for the explicit, implicit-Euler
and MPRK22 steppers, single grids and `solver.extrapolate = 3`.

  python3 benches/time_to_accuracy.py [1d|2d|all]   (needs h5py; builds nothing: uses
                                                     target/release/mfl)

1D: examples/quickstart_1d.toml (tanh teacher-student, T = 0.02), t <= 16. 2D:
examples/two_layer_2d.toml ((a, w) units, T = 0.01), t <= 8. The reference of each is a much
finer run: `extrapolate = 3` from a grid 4x finer than the finest measured one, MPRK22 at
rtol 1e-9 in 1D (its own grid-error estimate and time error are printed; both must be far below the
errors measured). Errors of an extrapolated run are those of its /extrapolated values; of a
single run, of its /diagnostics at the output times.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

REPO = Path(__file__).resolve().parents[1]
MFL = REPO / "target" / "release" / "mfl"

PROBLEMS = {
    "1d": dict(
        config=REPO / "examples" / "quickstart_1d.toml",
        base=["solver.t_end=16", "output.times=[0, 0.5, 1, 2, 4, 8, 16]"],
        cells=lambda m: f"grid.cells=[{m}]",
        reference=(512, 1e-9),
        runs=[
            ("explicit", 256, ["solver.stepper=\"explicit\""]),
            ("explicit", 512, ["solver.stepper=\"explicit\""]),
            ("implicit Euler dt=0.01", 256, ["solver.stepper=\"implicit\"", "solver.dt=0.01"]),
            ("implicit Euler dt=0.001", 512, ["solver.stepper=\"implicit\"", "solver.dt=0.001"]),
            ("mprk22 rtol=1e-7", 256, ["solver.stepper=\"mprk22\"", "solver.rtol=1e-7"]),
            ("mprk22 rtol=1e-7", 1024, ["solver.stepper=\"mprk22\"", "solver.rtol=1e-7"]),
            ("mprk22 rtol=1e-8, extrapolate=3", 128,
             ["solver.stepper=\"mprk22\"", "solver.rtol=1e-8", "solver.extrapolate=3"]),
            ("mprk22 rtol=3e-8, extrapolate=3", 128,
             ["solver.stepper=\"mprk22\"", "solver.rtol=3e-8", "solver.extrapolate=3"]),
        ],
    ),
    "2d": dict(
        config=REPO / "examples" / "two_layer_2d.toml",
        base=["solver.t_end=8", "output.times=[0, 0.5, 1, 2, 4, 8]"],
        cells=lambda m: f"grid.cells=[{3 * m // 4}, {m}]",
        reference=(256, 1e-9),
        runs=[
            ("explicit", 128, ["solver.stepper=\"explicit\""]),
            ("implicit Euler dt=0.02", 128, ["solver.stepper=\"implicit\"", "solver.dt=0.02"]),
            ("mprk22 rtol=1e-6", 128, ["solver.stepper=\"mprk22\"", "solver.rtol=1e-6"]),
            ("mprk22 rtol=1e-7, extrapolate=3", 32,
             ["solver.stepper=\"mprk22\"", "solver.rtol=1e-7", "solver.extrapolate=3"]),
            ("mprk22 rtol=1e-7, extrapolate=3", 48,
             ["solver.stepper=\"mprk22\"", "solver.rtol=1e-7", "solver.extrapolate=3"]),
        ],
    ),
}


def run(config, sets, out):
    args = [str(MFL), "solve", str(config), "-q", "--force", "--threads", "1", "-o", str(out)]
    for s in sets:
        args += ["--set", s]
    t0 = time.perf_counter()
    subprocess.run(args, check=True, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def values(path):
    """{t: (R, F)} at the output times, from /extrapolated when present."""
    with h5py.File(path, "r") as f:
        g = "extrapolated" if "extrapolated" in f else "diagnostics"
        t = f[f"{g}/time"][()]
        r = f[f"{g}/risk"][()]
        fe = f[f"{g}/free_energy"][()]
        out = {}
        for k in range(len(t)):
            out[float(t[k])] = (float(r[k]), float(fe[k]))
        est = None
        if "error_estimate" in f:
            est = float(np.nanmax(np.abs(f["error_estimate/risk"][()][1:]) /
                                  np.abs(f["extrapolated/risk"][()][1:])))
        steps = int(f["diagnostics/step"][()][-1])
        return out, est, steps


def table(name):
    p = PROBLEMS[name]
    tmp = Path(tempfile.mkdtemp(prefix="mfl-tta-"))
    m, rtol = p["reference"]
    ref_sets = p["base"] + [p["cells"](m), "solver.stepper=\"mprk22\"", f"solver.rtol={rtol}",
                            "solver.extrapolate=3"]
    tref = run(p["config"], ref_sets, tmp / "ref.h5")
    ref, ref_est, _ = values(tmp / "ref.h5")
    print(f"\n{name}: reference {m}·(1, 2, 4) cells, mprk22 rtol {rtol}, extrapolate 3: "
          f"{tref:.1f} s, its grid-error estimate ≤ {ref_est:.1e} (relative)\n")
    print("| method | grid | steps (finest) | max rel. error R | max rel. error F | time (1 thread) |")
    print("|---|---|---|---|---|---|")
    for label, cells, sets in p["runs"]:
        out = tmp / "run.h5"
        dt = run(p["config"], p["base"] + [p["cells"](cells)] + sets, out)
        got, _, steps = values(out)
        common = [t for t in got if t in ref and t > 0]
        er = max(abs(got[t][0] - ref[t][0]) / abs(ref[t][0]) for t in common)
        ef = max(abs(got[t][1] - ref[t][1]) / abs(ref[t][1]) for t in common)
        grid = p["cells"](cells).split("=")[1]
        if "extrapolate=3" in label:
            grid += " ×(1, 2, 4)"
        print(f"| {label} | {grid} | {steps} | {er:.1e} | {ef:.1e} | {dt:.2f} s |")


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    for name in (["1d", "2d"] if which == "all" else [which]):
        table(name)
