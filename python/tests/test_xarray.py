"""xarray opens every kind of output with named dimensions and coordinates and no warning:
open_dataset for the root and each group, open_datatree for the whole file."""

import warnings

import h5py
import pytest
import xarray as xr

import mfl
from conftest import EXAMPLES, QUICK, SHORT, cli, sets

RUNS = {
    "solve": (QUICK, SHORT, "solve"),
    "solve_2d": (EXAMPLES / "two_layer_2d.toml", {"solver.t_end": 0.05, "grid.cells": [24, 24]},
                 "solve"),
    "solve_extrapolated": (QUICK, {**SHORT, "grid.cells": [64], "solver.stepper": "mprk22",
                                   "solver.extrapolate": 2}, "solve"),
    "particles": (QUICK, {**SHORT, "particles.positions": True}, "particles"),
    "stationary": (EXAMPLES / "temperature_sweep.toml", {}, "stationary"),
    "compare": (EXAMPLES / "gap_1d.toml", {
        "compare.n": [4, 8, 16], "compare.seeds": 4, "compare.times": [0.0, 0.025, 0.05],
        "compare.equilibrium_from": 0.02, "solver.t_end": 0.05, "particles.t_end": 0.05,
        "particles.eta": 0.025}, "compare"),
}


@pytest.fixture(scope="module", params=sorted(RUNS))
def output(request, tmp_path_factory):
    example, over, command = RUNS[request.param]
    path = tmp_path_factory.mktemp(request.param) / "out.h5"
    getattr(mfl.Scenario.from_toml(example, overrides=over), command)(out=path, progress=False)
    return request.param, path


def groups(path):
    out = ["/"]
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: out.append("/" + n) if isinstance(o, h5py.Group) else None)
    return out


def opens_with_named_dimensions(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for g in groups(path):
            with xr.open_dataset(path, engine="h5netcdf", group=g) as ds:
                for name, v in ds.variables.items():
                    assert not any(d.startswith("phony_dim") for d in v.dims), (g, name)
                    assert v.attrs.get("long_name"), (g, name)
        with xr.open_datatree(path, engine="h5netcdf") as tree:
            assert set(tree.groups) == set(groups(path))


def test_every_group_opens_with_named_dimensions(output):
    opens_with_named_dimensions(output[1])


COMPARE_SHORT = {k: v for k, v in RUNS["compare"][1].items() if k != "compare.equilibrium_from"}


def test_shards_and_their_merge_open_with_named_dimensions(mfl_bin, tmp_path):
    shards = []
    for i in range(2):
        out = tmp_path / f"shard{i}.h5"
        r = cli(mfl_bin, "compare", EXAMPLES / "gap_1d.toml", *sets(COMPARE_SHORT),
                "--shard", f"{i}/2", "-o", out)
        assert r.returncode == 0, r.stderr
        opens_with_named_dimensions(out)
        shards.append(out)
    merged = tmp_path / "all.h5"
    r = cli(mfl_bin, "merge", *shards, "-o", merged)
    assert r.returncode == 0, r.stderr
    opens_with_named_dimensions(merged)


def test_coordinates_are_where_a_user_looks(output):
    kind, path = output
    tree = mfl.open(path)
    if kind.startswith("solve"):
        root = tree.to_dataset()
        assert root["density"].dims[:2] == ("snapshot", "theta_0")
        assert "time" in root.coords and "theta_0" in root.indexes
        d = tree["diagnostics"].to_dataset()
        assert "time" in d.indexes and d["step"].dtype == "uint64"
        assert d["cov"].dims == ("time", "axis", "axis_b")
    if kind == "solve_extrapolated":
        e = tree["extrapolated"].to_dataset()
        assert e["risk"].dims == ("time",) and "time" in e.indexes
        assert tree["error_estimate"]["risk"].dims == ("time",)
    if kind == "particles":
        p = tree["particles"].to_dataset()
        assert p["risk"].dims == ("seeds", "time") and p["seeds"].dtype == "uint64"
        assert p["positions"].dims == ("seeds", "time", "particle", "axis")
    if kind == "compare":
        c = tree["compare"].to_dataset()
        assert c["gap_risk"].dims == ("n", "time") and c["n"].dtype == "uint64"
        s = tree["compare/samples"].to_dataset()
        assert s["risk"].dims == ("n", "time", "seeds")
        assert "n" in s.indexes  # inherited from /compare
        assert tree["compare/equilibrium"]["gap_risk"].dims == ("n",)
    if kind == "stationary":
        s = tree["stationary"].to_dataset()
        assert s["density"].dims == ("temperature", "theta_0")
        assert s["iterations"].dtype == "uint64" and s["converged"].dtype == "uint8"
    tree.close()
