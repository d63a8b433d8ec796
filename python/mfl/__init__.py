"""mfl from Python: the mean-field limit of two-layer networks.

The same Scenario and the same command drivers as the ``mfl`` command line: a run writes the
HDF5 file ``mfl solve | particles | compare | stationary`` would write (bit for bit, for the
same config and overrides) and returns it opened with xarray, with named dimensions and
coordinates. No numerics live in Python.

>>> import mfl
>>> sc = mfl.Scenario.from_toml("examples/quickstart_1d.toml", overrides={"solver.t_end": 0.5})
>>> ds = sc.solve()              # xarray.Dataset: density(snapshot, theta_0), time(snapshot)
"""

from ._mfl import ConfigError, MflError, __version__
from .files import open
from .scenario import Scenario

__all__ = ["ConfigError", "MflError", "Scenario", "open", "__version__"]
