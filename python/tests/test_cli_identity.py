"""Python runs write the same numbers as the CLI, bit for bit, for the same config."""

import h5py
import numpy as np
import pytest

import mfl
from conftest import EXAMPLES, QUICK, SHORT, cli, sets


def datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
        attrs = {k: f.attrs[k] for k in ("status", "config", "command")}
    return out, attrs


def assert_same_file(a, b):
    da, aa = datasets(a)
    db, ab = datasets(b)
    assert sorted(da) == sorted(db)
    for k in da:
        x, y = da[k], db[k]
        assert x.dtype == y.dtype and x.shape == y.shape, k
        # bit for bit, NaN included
        assert x.tobytes() == y.tobytes(), k
    assert aa == ab


@pytest.mark.parametrize(
    "command,example,over",
    [
        ("solve", QUICK, SHORT),
        ("particles", QUICK, SHORT),
        ("solve", EXAMPLES / "two_layer_2d.toml", {"solver.t_end": 0.05, "grid.cells": [24, 24]}),
        ("stationary", EXAMPLES / "temperature_sweep.toml", {}),
        ("compare", EXAMPLES / "gap_1d.toml", {
            "compare.n": [4, 8, 16], "compare.seeds": 4, "compare.times": [0.0, 0.025, 0.05],
            "solver.t_end": 0.05, "particles.t_end": 0.05, "particles.eta": 0.025}),
    ],
)
def test_python_run_equals_cli_run(tmp_path, mfl_bin, command, example, over):
    a, b = tmp_path / "cli.h5", tmp_path / "py.h5"
    args = [command, example, "-o", a, *sets(over)]
    r = cli(mfl_bin, *args)
    assert r.returncode == 0, r.stderr
    sc = mfl.Scenario.from_toml(example, overrides=over)
    ds = getattr(sc, command)(out=b, progress=False)
    assert ds.attrs["status"] == "complete"
    assert_same_file(a, b)


def test_text_and_dict_configs_give_the_cli_numbers(tmp_path, mfl_bin):
    a = tmp_path / "cli.h5"
    r = cli(mfl_bin, "solve", QUICK, "-o", a, *sets(SHORT))
    assert r.returncode == 0, r.stderr
    ref, _ = datasets(a)
    import tomllib

    for sc in (mfl.Scenario.from_toml(QUICK.read_text(), overrides=SHORT),
               mfl.Scenario.from_dict(tomllib.loads(QUICK.read_text()), overrides=SHORT)):
        ds = sc.solve(progress=False)
        got, _ = datasets(ds.encoding["source"])
        for k in ("density", "time", "diagnostics/risk", "diagnostics/step"):
            assert got[k].tobytes() == ref[k].tobytes(), k
        np.testing.assert_array_equal(ds["density"].values, ref["density"])
