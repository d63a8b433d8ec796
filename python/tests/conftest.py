"""Shared fixtures: the repository's examples and the CLI binary the results are checked
against (``MFL_BIN``, default ``target/debug/mfl`` of the repository)."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
QUICK = EXAMPLES / "quickstart_1d.toml"
# the quick-start problem, shortened (CLI `--set` strings and the same as Python overrides)
SHORT = {"solver.t_end": 0.2, "particles.t_end": 0.2, "particles.n": 64, "particles.seeds": 3}


@pytest.fixture(scope="session")
def mfl_bin():
    b = Path(os.environ.get("MFL_BIN", REPO / "target" / "debug" / "mfl"))
    if not b.is_file():
        pytest.fail(f"the mfl CLI is needed at {b} (cargo build --bin mfl, or set MFL_BIN)")
    return b


def cli(mfl_bin, *args):
    """Run the CLI quietly; return the completed process (stdout, stderr, returncode)."""
    return subprocess.run([str(mfl_bin), *map(str, args), "--quiet"], capture_output=True,
                          text=True, timeout=600)


def sets(overrides):
    """`--set key=value` arguments of an override dict (numbers in Python's repr)."""
    out = []
    for k, v in overrides.items():
        out += ["--set", f"{k}={v!r}" if not isinstance(v, str) else f'{k}="{v}"']
    return out
