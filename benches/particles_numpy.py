#!/usr/bin/env python3
"""NumPy reference for the particle step of crates/mfl-particles/benches/step.rs (issue 4).

One exact-population-gradient noisy step of N particles theta_i = (a_i, w_i), unit a*tanh(w*x),
d = 1, K Gauss-Hermite nodes x_k with weights q_k (standard normal, sum q_k = 1), teacher
y = tanh(1.5 x), lambda = 1e-3, eta = 0.01, T = 1e-3:

    f_k  = (1/N) sum_i a_i tanh(w_i x_k)
    r_k  = q_k (f_k - y_k)
    dPsi/da_i = sum_k r_k tanh(w_i x_k) + lambda a_i
    dPsi/dw_i = a_i sum_k r_k x_k (1 - tanh^2(w_i x_k)) + lambda w_i
    theta_i <- theta_i - eta grad + sqrt(2 T eta) g_i,   g_i ~ N(0, I_2)

Vectorised and blocked over particles (B particles x K/2 nodes per block, preallocated buffers,
the reductions as BLAS GEMVs), using the odd symmetry of the nodes: x_{K-1-k} = -x_k, so
tanh(w x_{K-1-k}) = -tanh(w x_k) and only the first ceil(K/2) nodes are evaluated:
f_{K-1-k} = -f_k and the pass-2 sums run over rho_k = r_k - r_{K-1-k}.

Two variants:
  recompute  tanh is evaluated in both passes (what mfl does: 2 x N x K/2 tanh per step);
  cache      the tanh blocks of pass 1 are kept for pass 2 (N x K/2 tanh per step, N*K/2*8 bytes
             of memory; only run while that is <= 1 GB).
The faster one is the reference. Usage:

    OPENBLAS_NUM_THREADS=1 python3 benches/particles_numpy.py          # all cases
    python3 benches/particles_numpy.py --n 100000 --k 170 --block 2048

Reported: ms per step (median of repeats), particle-steps/s = N / t, and unit evaluations/s =
2 N K / t (sigma for f and (sigma, grad sigma) for grad Psi, counted over all K nodes as in the
Rust bench, whether or not the symmetry saves half of them).
"""

import argparse
import os
import time

import numpy as np

LAMBDA, ETA, TEMP = 1e-3, 0.01, 1e-3


def nodes(k):
    x, q = np.polynomial.hermite_e.hermegauss(k)
    x = 0.5 * (x - x[::-1])  # exact symmetry, as mfl-core's gauss_hermite
    if k % 2:
        x[k // 2] = 0.0
    q = 0.5 * (q + q[::-1])
    return x, q / q.sum()


class Step:
    def __init__(self, n, k, block, cache, seed=1):
        self.n, self.k, self.block = n, k, block
        self.x, self.q = nodes(k)
        self.y = np.tanh(1.5 * self.x)
        self.kc = (k + 1) // 2
        self.xh = np.ascontiguousarray(self.x[: self.kc])
        self.rng = np.random.default_rng(seed)
        self.a = 0.0 + np.sqrt(0.5) * self.rng.standard_normal(n)
        self.w = 1.0 + np.sqrt(0.5) * self.rng.standard_normal(n)
        self.cache = cache and n * self.kc * 8 <= 1 << 30
        nb = min(block, n)
        self.buf = np.empty((nb, self.kc))
        self.tab = np.empty((n, self.kc)) if self.cache else None
        self.ga = np.empty(n)
        self.gw = np.empty(n)

    def tanh_block(self, lo, hi):
        t = self.tab[lo:hi] if self.cache else self.buf[: hi - lo]
        np.multiply.outer(self.w[lo:hi], self.xh, out=t)
        np.tanh(t, out=t)
        return t

    def step(self):
        n, k, kc = self.n, self.k, self.kc
        # pass 1: f on the canonical nodes
        fh = np.zeros(kc)
        c = self.a / n
        for lo in range(0, n, self.block):
            hi = min(n, lo + self.block)
            fh += c[lo:hi] @ self.tanh_block(lo, hi)
        f = np.empty(k)
        f[:kc] = fh
        f[k - 1 : kc - 1 if k % 2 else kc - 1 : -1] = -fh[: k // 2]
        r = self.q * (f - self.y)
        rho = r[:kc].copy()
        rho[: k // 2] -= r[::-1][: k // 2]
        rhox = rho * self.xh
        # pass 2: gradients
        for lo in range(0, n, self.block):
            hi = min(n, lo + self.block)
            t = self.tab[lo:hi] if self.cache else self.tanh_block(lo, hi)
            self.ga[lo:hi] = t @ rho
            np.multiply(t, t, out=t)
            np.subtract(1.0, t, out=t)
            self.gw[lo:hi] = t @ rhox
        self.ga += LAMBDA * self.a
        self.gw *= self.a
        self.gw += LAMBDA * self.w
        s = np.sqrt(2.0 * TEMP * ETA)
        g = self.rng.standard_normal((2, n))
        self.a -= ETA * self.ga
        self.a += s * g[0]
        self.w -= ETA * self.gw
        self.w += s * g[1]
        return f


def check_against_direct():
    """The blocked, folded step against the plain formulas on a small case."""
    st = Step(300, 51, 64, False, seed=3)
    a0, w0 = st.a.copy(), st.w.copy()
    st.rng = np.random.default_rng(9)
    f = st.step()
    t = np.tanh(np.multiply.outer(w0, st.x))
    f_ref = (a0 / 300) @ t
    r = st.q * (f_ref - st.y)
    ga = t @ r + LAMBDA * a0
    gw = a0 * ((1 - t * t) @ (r * st.x)) + LAMBDA * w0
    g = np.random.default_rng(9).standard_normal((2, 300))
    s = np.sqrt(2 * TEMP * ETA)
    assert np.allclose(f, f_ref, rtol=0, atol=1e-14)
    assert np.allclose(st.a, a0 - ETA * ga + s * g[0], rtol=0, atol=1e-14)
    assert np.allclose(st.w, w0 - ETA * gw + s * g[1], rtol=0, atol=1e-14)


def time_case(n, k, block, cache, target=1.0):
    st = Step(n, k, block, cache)
    st.step()
    times = []
    t_end = time.perf_counter() + target
    while len(times) < 3 or (time.perf_counter() < t_end and len(times) < 50):
        t0 = time.perf_counter()
        st.step()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), st.cache


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, nargs="*", default=[1000, 10_000, 100_000, 1_000_000])
    p.add_argument("--k", type=int, nargs="*", default=[50, 170])
    p.add_argument("--block", type=int, nargs="*", default=[512, 2048, 8192])
    p.add_argument("--time", type=float, default=1.0, help="seconds per case")
    a = p.parse_args()
    check_against_direct()
    print(f"# numpy {np.__version__}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print("| N | K | variant | best block | ms/step | particle-steps/s | unit-evals/s |")
    print("|---|---|---|---|---|---|---|")
    for k in a.k:
        for n in a.n:
            for cache in (False, True):
                best = None
                for b in a.block:
                    if b > 2 * n and b != min(a.block):
                        continue
                    t, cached = time_case(n, k, b, cache, a.time)
                    if cache and not cached:
                        break
                    if best is None or t < best[0]:
                        best = (t, b)
                if best is None:
                    continue
                t, b = best
                name = "cache" if cache else "recompute"
                print(f"| {n:.0e} | {k} | {name} | {b} | {1e3 * t:.3f} | {n / t:.3e} | "
                      f"{2 * n * k / t:.3e} |", flush=True)


if __name__ == "__main__":
    main()
