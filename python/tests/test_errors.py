"""Bad configs raise mfl.ConfigError naming the key; Ctrl-C leaves a valid file marked
interrupted and raises KeyboardInterrupt."""

import threading
import _thread

import h5py
import pytest

import mfl
from conftest import QUICK, SHORT


def test_a_bad_value_names_its_key():
    with pytest.raises(mfl.ConfigError) as e:
        mfl.Scenario.from_toml(QUICK, overrides={"unit.activation": "gelu"}).check()
    assert "unit.activation" in str(e.value)
    assert e.value.args[1] == "unit.activation"


def test_an_unknown_key_is_named():
    with pytest.raises(mfl.ConfigError) as e:
        mfl.Scenario.from_toml(QUICK, overrides={"solver.t_endd": 1.0}).solve(progress=False)
    assert "t_endd" in str(e.value)


def test_check_returns_what_the_cli_prints():
    text = mfl.Scenario.from_toml(QUICK, overrides=SHORT).check()
    assert "grid" in text and text.rstrip().endswith("ok")


def test_keyboard_interrupt_marks_the_file(tmp_path):
    out = tmp_path / "int.h5"
    sc = mfl.Scenario.from_toml(QUICK, overrides={"solver.t_end": 1000.0})
    timer = threading.Timer(1.5, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        sc.solve(out=out, progress=False)
    timer.cancel()
    with h5py.File(out, "r") as f:
        status = f.attrs["status"]
        status = status.decode() if isinstance(status, bytes) else status
        assert status.startswith("failed: interrupted at t = "), status
        assert f["density"].shape[0] == f["time"].shape[0] >= 1
    # the file opens in xarray, and a new run works afterwards
    ds = mfl.open(out, group="/")
    assert ds.sizes["snapshot"] >= 1
    ds.close()
    assert mfl.Scenario.from_toml(QUICK, overrides=SHORT).solve(progress=False).attrs[
        "status"] == "complete"
