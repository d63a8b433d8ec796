#!/usr/bin/env python3
"""Vectorised NumPy reference for issue 3: one explicit SG SSP-RK3 step on the 2D (a, w) tanh
problem at 256², with the same scheme and the same factorisation as mfl-pde's
ExplicitSsprk3 + MeanFieldPotential (factorised path), timed per step.

Problem (identical to `explicit_step/2d_aw_fact_256` in crates/mfl-pde/benches/fv.rs):
  unit a·tanh(w x), x ~ N(0,1) by K = 170 Gauss–Hermite nodes, teacher 1·tanh(2x) − 0.5·tanh(0.7x),
  squared loss, λ = 1e-3, T = 0.05, grid a ∈ [−3, 3] × w ∈ [−4, 4], 256² cells, no-flux walls,
  ρ₀ = N((0.2, 0.3), [[0.5, 0.1], [0.1, 1.0]]) at the cell centres, cfl = 0.9.

Per stage: s_j = Σ_i a_i ρ_ij|cell|, f = Tabᵀ s, r = ½ w (f − y), g = Tab r,
Ψ_ij = a_i g_j + (λ/2)(a_i² + w_j²); SG fluxes with ONE expm1 per face
(B(−|z|) = |z|/(−expm1(−|z|)), B(|z|) = B(−|z|)·e^{−|z|}), the outflow-rate bound, −div J.
Usage: python3 benches/fv_numpy.py [n] [steps]
"""
import sys
import time

import numpy as np

n = int(sys.argv[1]) if len(sys.argv) > 1 else 256
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 50
K, T, LAM, CFL = 170, 0.05, 1e-3, 0.9

# data: Gauss–Hermite nodes for N(0,1) (probabilists'), weights summing to 1
x, wq = np.polynomial.hermite_e.hermegauss(K)
wq = wq / wq.sum()
y = 1.0 * np.tanh(2.0 * x) + 1.0 * (-0.5) * np.tanh(0.7 * x)  # teacher c = (1, 1)

lo, hi = np.array([-3.0, -4.0]), np.array([3.0, 4.0])
h = (hi - lo) / n
a = lo[0] + h[0] * (np.arange(n) + 0.5)
w = lo[1] + h[1] * (np.arange(n) + 0.5)
vol = h[0] * h[1]
tab = np.tanh(np.outer(w, x))  # n_w × K: the factorised table
A2, W2 = np.meshgrid(a, w, indexing="ij")
quad = 0.5 * LAM * (A2**2 + W2**2)

m0 = np.array([0.2, 0.3])
S = np.array([[0.5, 0.1], [0.1, 1.0]])
Si = np.linalg.inv(S)
d0, d1 = A2 - m0[0], W2 - m0[1]
rho = np.exp(-0.5 * (Si[0, 0] * d0**2 + 2 * Si[0, 1] * d0 * d1 + Si[1, 1] * d1**2))
rho /= 2 * np.pi * np.sqrt(np.linalg.det(S))


def potential(u):
    s = a @ u * vol  # n_w
    f = tab.T @ s  # K
    r = wq * (f - y)  # r_k = ½ w_k ∂ℓ with ℓ = (y − f)², ∂ℓ = 2(f − y)
    g = tab @ r
    return np.multiply.outer(a, g) + quad


def coeffs(dpsi, hh):
    """(A(ΔΨ), A(−ΔΨ))/h² with one expm1 per face."""
    z = dpsi / T
    az = np.abs(z)
    em1 = np.expm1(-az)
    with np.errstate(invalid="ignore", divide="ignore"):
        big = np.where(az < 1e-5, 1.0 + 0.5 * az + az * az / 12.0, az / -em1)
    small = np.where(az < 1e-5, 1.0 - 0.5 * az + az * az / 12.0, big * (1.0 + em1))
    pos = z >= 0
    c = T / (hh * hh)
    return c * np.where(pos, small, big), c * np.where(pos, big, small)


def rhs_rate(psi, u):
    out = np.zeros_like(u)
    rate = np.zeros_like(u)
    # axis 0 (a): faces between rows
    ap, am = coeffs(psi[1:, :] - psi[:-1, :], h[0])
    j = ap * u[:-1, :] - am * u[1:, :]
    out[:-1, :] -= j
    out[1:, :] += j
    rate[:-1, :] += ap
    rate[1:, :] += am
    # axis 1 (w): faces within rows
    ap, am = coeffs(psi[:, 1:] - psi[:, :-1], h[1])
    j = ap * u[:, :-1] - am * u[:, 1:]
    out[:, :-1] -= j
    out[:, 1:] += j
    rate[:, :-1] += ap
    rate[:, 1:] += am
    return out, rate.max()


def step(rho):
    k0, r0 = rhs_rate(potential(rho), rho)
    dt = CFL / r0
    while True:
        u1 = rho + dt * k0
        k, r = rhs_rate(potential(u1), u1)
        if dt * r > 1:
            dt = CFL / r
            continue
        u2 = 0.75 * rho + 0.25 * (u1 + dt * k)
        k, r = rhs_rate(potential(u2), u2)
        if dt * r > 1:
            dt = CFL / r
            continue
        return rho / 3.0 + 2.0 / 3.0 * (u2 + dt * k), dt


for _ in range(3):  # warm-up
    rho, dt = step(rho)
best = []
for rep in range(5):
    t0 = time.perf_counter()
    for _ in range(steps // 5 or 1):
        rho, dt = step(rho)
    best.append((time.perf_counter() - t0) / (steps // 5 or 1))
tm = min(best)
print(f"numpy {np.__version__}: {n}x{n} explicit SSP-RK3 step: {tm * 1e3:.3f} ms/step "
      f"(median {sorted(best)[len(best) // 2] * 1e3:.3f}), {1 / tm:.1f} steps/s, "
      f"{n * n / tm / 1e6:.2f} M cell-updates/s; last dt {dt:.3e}, mass {rho.sum() * vol:.12f}")
