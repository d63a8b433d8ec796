"""NumPy arrays in and out: an initial density, particles and data points go in bit for bit;
results come out as NumPy arrays of the file."""

import numpy as np

import mfl
from conftest import QUICK, SHORT


def test_initial_density_round_trips_bit_for_bit():
    sc = mfl.Scenario.from_toml(QUICK, overrides=SHORT)
    first = sc.solve(progress=False)
    rho = first["density"].values[-1]
    assert isinstance(rho, np.ndarray) and rho.dtype == np.float64
    again = sc.with_initial_density(rho).solve(progress=False)
    # the new run's first snapshot is rho, bit for bit
    assert again["density"].values[0].tobytes() == rho.tobytes()
    # and continuing from t = 0.2 differs from starting afresh
    assert not np.array_equal(again["density"].values[-1], first["density"].values[-1])


def test_initial_particles_and_data_points_are_used():
    sc = mfl.Scenario.from_toml(QUICK, overrides=SHORT)
    p = sc.particles(progress=False)
    theta = p["final_theta"].values
    assert theta.shape == (3, 64, 1)
    again = sc.with_initial_particles(theta).particles(progress=False)
    # a `particles` init: the histogram of theta on the grid, which new particles sample
    assert again["final_theta"].dims == ("seeds", "particle", "axis")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 1))
    y = 0.5 * np.tanh(2 * x[:, 0]) + 0.5 * np.tanh(-x[:, 0])
    d = sc.with_data(x, y)
    ds = d.solve(progress=False)
    assert np.isfinite(ds["density"].values).all()
    # the same data written by hand as CSV (repr round-trips) gives the same numbers
    import tempfile, os
    with tempfile.TemporaryDirectory() as t:
        csv = os.path.join(t, "d.csv")
        with open(csv, "w") as f:
            f.write("x,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(x[:, 0], y)))
        by_hand = mfl.Scenario.from_toml(QUICK, overrides=SHORT)._with_table(
            "data", {"kind": "csv", "path": csv}).solve(progress=False)
    assert by_hand["density"].values.tobytes() == ds["density"].values.tobytes()
