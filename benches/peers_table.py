"""Tabulates the raw outputs of benches/peers.sh (usage: python3 benches/peers_table.py OUT_DIR)."""
import ast, re, sys, os
out = sys.argv[1]
def bencher(path):
    d = {}
    for line in open(path):
        m = re.match(r"test (\S+) \.\.\. bench:\s+([\d,]+) ns/iter", line)
        if m:
            d.setdefault(m.group(1), []).append(int(m.group(2).replace(",", "")) / 1e6)
    return d
fv = bencher(os.path.join(out, "fv_mfl.txt"))
for k, v in bencher(os.path.join(out, "fv_mfl2.txt")).items():
    fv.setdefault(k, []).extend(v)
best = lambda d, k: min(d[k]) if k in d else float("nan")
npfv = {}
for line in open(os.path.join(out, "fv_numpy.txt")):
    r = ast.literal_eval(line.strip())
    npfv[r["cells"]] = 1e3 * r["seconds"] / r["steps"]
print(open(os.path.join(out, "machine.txt")).read())
print(open(os.path.join(out, "load.txt")).read())
print("### SG stage (ms; mfl = best of the two runs)\n")
print("| grid | NumPy step | mfl flux 1t | flux 2t | 2t/1t | flux AVX2 1t | main 522f864 flux 1t / 2t | Ψ 1t | mfl Euler stage 1t | 2t | NumPy / mfl (Euler 1t) | Euler 2t/1t |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for n in (128, 256, 512):
    g = lambda w, t: best(fv, f"peer_fv/{w}/{n}/{t}t")
    f1, f2, e1, e2 = g("flux", 1), g("flux", 2), g("euler", 1), g("euler", 2)
    o1, o2 = g("flux_main522f864", 1), g("flux_main522f864", 2)
    npv = npfv.get(n * n, float("nan"))
    print(f"| {n}² | {npv:.3f} | {f1:.3f} | {f2:.3f} | {f1/f2:.2f}× | {g('flux_avx2',1):.3f} | {o1:.3f} / {o2:.3f} | {g('potential',1):.3f} | {e1:.3f} | {e2:.3f} | {npv/e1:.1f}× | {e1/e2:.2f}× |")
print("\n### other Ψ paths at 256² (ms per stage)\n")
print("| path | Ψ 1t | Ψ 2t | Ψ + flux + update 1t | 2t |")
print("|---|---|---|---|---|")
for path in ("general", "fft"):
    q = lambda w, t: best(fv, f"peer_paths/{path}_{w}/256/{t}t")
    print(f"| {path} | {q('potential',1):.3f} | {q('potential',2):.3f} | {q('euler',1):.3f} | {q('euler',2):.3f} |")
pm = {}
for line in open(os.path.join(out, "particle_mfl.txt")):
    m = re.match(r"test peer_particle/(\w+)/(\d+)/(\d)t/(\w+) \.\.\. bench: (\d+) ns/iter", line)
    if m:
        pm[(m.group(1), int(m.group(2)), int(m.group(3)), m.group(4))] = int(m.group(5)) / 1e6
pn = {}
for line in open(os.path.join(out, "particle_numpy.txt")):
    quad, rest = line.split(" ", 1)
    r = ast.literal_eval(rest.strip())
    if "seconds" in r:
        pn[(quad, r["N"], r["backend"])] = 1e3 * r["seconds"] / r["steps"]
isas = sorted({k[3] for k in pm}, reverse=True)
print("\n### particle step (ms per step)\n")
print("| nodes (canonical) | N | NumPy blocked | NumPy full matrix | " + " | ".join(f"mfl {i} 1t | {i} 2t" for i in isas) + " | best NumPy / mfl 1t (" + isas[0] + ") | 2t/1t |")
print("|---|---|---|---|" + "---|---|" * len(isas) + "---|---|")
for quad, kc in (("trap", "101 (51)"), ("gh340", "340 (170)")):
    for n in (100000, 1000000):
        a, b = pn.get((quad, n, "numpy"), float("nan")), pn.get((quad, n, "numpy_store"), float("nan"))
        cells = " | ".join(f"{pm.get((quad, n, 1, i), float('nan')):.2f} | {pm.get((quad, n, 2, i), float('nan')):.2f}" for i in isas)
        m1, m2 = pm.get((quad, n, 1, isas[0]), float("nan")), pm.get((quad, n, 2, isas[0]), float("nan"))
        print(f"| {kc} | {n:.0e} | {a:.2f} | {b:.2f} | {cells} | {min(a, b)/m1:.2f}× | {m1/m2:.2f}× |")
