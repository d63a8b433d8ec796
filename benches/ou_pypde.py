#!/usr/bin/env python3
"""py-pde side of the issue-3 OU comparison: 2D Ornstein–Uhlenbeck
∂ρ/∂t = ∇·(ρ∇V) + TΔρ, V = ½θᵀAθ, on [−4, 4]² with 256² cells, T = 0.1, t ∈ [0, 1],
ρ₀ = N(m₀, S₀); the exact solution is N(e^{−At}m₀, e^{−At}S₀e^{−At} + T A⁻¹(I − e^{−2At})).

Same problem as `cargo run --release -p mfl-pde --example ou_bench`. Runs py-pde's steppers
(explicit Euler / RK4 / adaptive RK45 at several dt) and reports, for each, the wall time of
the solve (numba compilation excluded by a warm-up solve) and the L1 error
Σ|ρ − ρ_exact|·|cell| at t = 1. The fastest run with L1 ≤ 1.5e-3 is the reference.
Usage: python3 benches/ou_pypde.py
"""
import time

import numpy as np
import pde

T, N, L, T_END = 0.1, 256, 4.0, 1.0
A = np.array([[1.0, 0.6], [0.6, 0.8]])
M0 = np.array([1.0, -0.5])
S0 = np.array([[0.3, 0.1], [0.1, 0.2]])

lam, U = np.linalg.eigh(A)
E = U @ np.diag(np.exp(-lam * T_END)) @ U.T
mt = E @ M0
St = E @ S0 @ E + T * np.linalg.inv(A) @ (np.eye(2) - E @ E)


def gauss(m, S, X, Y):
    Si = np.linalg.inv(S)
    dx, dy = X - m[0], Y - m[1]
    q = Si[0, 0] * dx * dx + 2 * Si[0, 1] * dx * dy + Si[1, 1] * dy * dy
    return np.exp(-0.5 * q) / (2 * np.pi * np.sqrt(np.linalg.det(S)))


grid = pde.CartesianGrid([[-L, L], [-L, L]], [N, N], periodic=False)
X, Y = grid.cell_coords[..., 0], grid.cell_coords[..., 1]
vol = (2 * L / N) ** 2
rho0 = pde.ScalarField(grid, gauss(M0, S0, X, Y))
exact = gauss(mt, St, X, Y)
# ∇·(ρ∇V) = (Aθ)·∇ρ + tr(A)ρ
eq = pde.PDE(
    {"c": f"{T}*laplace(c) + ({A[0,0]}*x + {A[0,1]}*y)*d_dx(c)"
          f" + ({A[1,0]}*x + {A[1,1]}*y)*d_dy(c) + {np.trace(A)}*c"},
    bc={"derivative": 0},
)

runs = []
configs = [("explicit", dict(dt=d)) for d in (1e-3,)] + \
          [("explicit", dict(dt=d, scheme="runge-kutta")) for d in (2e-3,)] + \
          [("runge-kutta", dict(dt=1e-3, tolerance=t)) for t in (1e-4,)]
for name, kw in configs:
    # warm-up: compile (numba) with the same settings on a short interval
    eq.solve(rho0.copy(), t_range=2 * kw["dt"], solver=name, tracker=None, **kw)
    t0 = time.perf_counter()
    try:
        res = eq.solve(rho0.copy(), t_range=T_END, solver=name, tracker=None, **kw)
    except Exception as e:  # noqa: BLE001 - report and go on
        print(f"{name} {kw}: failed: {e}")
        continue
    wall = time.perf_counter() - t0
    l1 = np.abs(res.data - exact).sum() * vol
    runs.append((wall, l1, name, kw))
    print(f"py-pde {pde.__version__} {name:12s} {str(kw):45s} wall {wall:8.3f} s  L1 {l1:.3e}",
          flush=True)
ok = [r for r in runs if r[1] <= 1.5e-3]
if ok:
    w, l1, name, kw = min(ok)
    print(f"FASTEST with L1 <= 1.5e-3: {name} {kw}: {w:.3f} s (L1 {l1:.3e})")
else:
    print("no py-pde run reached L1 <= 1.5e-3")
