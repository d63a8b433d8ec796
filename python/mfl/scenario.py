"""``mfl.Scenario``: a config (a file, TOML text or a dict) plus ``--set``-style overrides,
run by the CLI's own drivers."""

import os
from pathlib import Path

import numpy as np

from . import _mfl
from .files import load, scratch
from .progress import Bar


class Scenario:
    """A config and its overrides, validated by mfl itself (``check``) and run by the same
    drivers as the CLI. Construct it with :meth:`from_toml` or :meth:`from_dict`.

    A config read from a file runs from that file, as ``mfl solve FILE --set …`` does (its
    relative ``data.path``/``init.file`` are relative to the file). A config given as text or a
    dict runs from a temporary copy, with relative paths resolved against ``base_dir``
    (default: the current directory)."""

    def __init__(self, path=None, text=None, sets=(), base_dir=None):
        self._path = None if path is None else Path(path)
        self._text = text
        self._base = Path(base_dir or os.getcwd()).resolve()
        self._sets = list(sets)

    # --- construction -----------------------------------------------------------------------
    @classmethod
    def from_toml(cls, source, overrides=None, *, base_dir=None):
        """A scenario from a TOML file (a path) or TOML text, with ``overrides``
        ``{"solver.t_end": 2.0, "grid.cells": [128]}`` applied as ``--set key=value``."""
        if isinstance(source, os.PathLike) or (
            isinstance(source, str) and "\n" not in source and Path(source).is_file()
        ):
            sc = cls(path=Path(source), base_dir=base_dir)
        elif isinstance(source, str):
            sc = cls(text=source, base_dir=base_dir)
        else:
            raise TypeError("from_toml takes a path or TOML text; use from_dict for a dict")
        return sc.with_overrides(overrides or {})

    @classmethod
    def from_dict(cls, config, overrides=None, *, base_dir=None):
        """A scenario from a dict of tables (``{"grid": {"cells": [64]}, ...}``; lists and
        NumPy arrays become TOML arrays), with ``overrides`` as in :meth:`from_toml`."""
        return cls(text=_mfl.to_toml(config), base_dir=base_dir).with_overrides(overrides or {})

    def with_overrides(self, overrides):
        """A copy with more overrides (later ones win, as repeated ``--set``)."""
        sets = self._sets + [_mfl.format_override(k, v) for k, v in dict(overrides).items()]
        return Scenario(self._path, self._text, sets, self._base)

    @property
    def overrides(self):
        """The ``key=value`` overrides, exactly as ``--set`` receives them."""
        return list(self._sets)

    def toml(self):
        """The config's TOML text (before the overrides)."""
        return self._text if self._text is not None else self._path.read_text()

    def _with_table(self, name, entries):
        text = _mfl.set_table(self._config_text(), name, entries)
        return Scenario(None, text, self._sets, self._base)

    def _config_text(self):
        if self._text is not None:
            return _mfl.absolutize(self._text, str(self._base))
        return _mfl.absolutize(self._path.read_text(), str(self._path.resolve().parent))

    # --- NumPy arrays in --------------------------------------------------------------------
    def with_initial_density(self, rho):
        """A copy starting from the density ``rho`` [n0(, n1)] (cell values on the config's
        grid), used bit for bit: written once into an HDF5 file that ``[init] kind =
        "snapshot"`` reads."""
        path = scratch("init_density.h5")
        _mfl.write_density(path, np.ascontiguousarray(rho, dtype=np.float64))
        return self._with_table("init", {"kind": "snapshot", "file": path})

    def with_initial_particles(self, theta):
        """A copy whose initial density is the histogram of the particles ``theta`` [S, N, D]
        (or [N, D]) on the config's grid (``[init] kind = "particles"``: grid runs start from
        it, particle runs draw their particles from it)."""
        path = scratch("init_particles.h5")
        _mfl.write_particles(path, np.ascontiguousarray(theta, dtype=np.float64))
        return self._with_table("init", {"kind": "particles", "file": path})

    def with_data(self, x, y):
        """A copy whose data set is the points ``x`` [n, d] (or [n]) with labels ``y`` [n]
        (``[data] kind = "csv"``, written once in a form that reads back bit for bit)."""
        path = scratch("data.csv")
        _mfl.write_data(
            path,
            np.ascontiguousarray(x, dtype=np.float64),
            np.ascontiguousarray(y, dtype=np.float64),
        )
        return self._with_table("data", {"kind": "csv", "path": path})

    # --- running ----------------------------------------------------------------------------
    def _config_file(self):
        if self._path is not None:
            return str(self._path)
        path = scratch("config.toml")
        Path(path).write_text(self._config_text())
        return path

    def check(self):
        """Build everything the runs build and return what ``mfl check`` prints; raises
        :class:`mfl.ConfigError` naming the key when the config is rejected."""
        return _mfl.check(self._config_file(), self._sets)

    def _run(self, command, out, force, progress, group, **kw):
        path = os.fspath(out) if out is not None else scratch(f"{command}.h5")
        bar = Bar(progress)
        try:
            _mfl.run(command, self._config_file(), self._sets, path, force, progress=bar, **kw)
        finally:
            bar.close()
        return load(path, group)

    def solve(self, out=None, *, force=False, progress=True):
        """``mfl solve``: the PDE run, written to ``out`` (a temporary file when None), returned
        as the root group: ``density`` (snapshot, theta_0(, theta_1)) with the coordinates
        ``time`` (snapshot) and ``theta_a``. ``mfl.open(ds.encoding["source"])`` gives the whole
        file (``/diagnostics`` ...). Ctrl-C stops the run at the end of its step, marks the
        file ``failed: interrupted at t = …`` and raises ``KeyboardInterrupt``."""
        return self._run("solve", out, force, progress, "/")

    def particles(self, out=None, *, n=None, seeds=None, force=False, progress=True):
        """``mfl particles [--n N] [--seeds S]``: the ``/particles`` group (risk (seeds, time),
        final_theta (seeds, particle, axis), ...). Ctrl-C as for :meth:`solve`."""
        return self._run("particles", out, force, progress, "particles", n=n, seeds=seeds)

    def compare(self, out=None, *, force=False, progress=True):
        """``mfl compare``: the ``/compare`` group (gap_risk (n, time), slope (time), ...).
        The CLI's table is printed on standard output. This driver does not poll the stop
        flag yet: Ctrl-C takes effect (KeyboardInterrupt) when the run has ended."""
        return self._run("compare", out, force, progress, "compare")

    def stationary(self, out=None, *, force=False, progress=True):
        """``mfl stationary``: the ``/stationary`` group (density (temperature, theta_0(,
        theta_1)), free_energy (temperature), ...). As for :meth:`compare`, Ctrl-C takes effect
        when the run has ended."""
        return self._run("stationary", out, force, progress, "stationary")

    def __repr__(self):
        src = str(self._path) if self._path is not None else "<toml text>"
        return f"Scenario({src}, overrides={self._sets})"
