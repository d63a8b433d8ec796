"""Opening mfl's HDF5 files with xarray (h5netcdf): every dimension is named and every
coordinate attached as an HDF5 dimension scale, so no ``phony_dims`` are needed."""

import tempfile
import atexit
import shutil
import os

import h5py
import xarray as xr

_ROOT_ATTRS = ("command", "status", "mfl_version", "config", "config_hash", "solver", "f_star")


def open(path, group=None):
    """Open an mfl output: the whole file as an ``xarray.DataTree`` (``group=None``), or one
    group (``"/"``, ``"diagnostics"``, ``"particles"``, ``"compare"``, ``"stationary"``, ...)
    as an ``xarray.Dataset``. The file stays open lazily; call ``.load()`` to read it all."""
    path = os.fspath(path)
    if group is None:
        return xr.open_datatree(path, engine="h5netcdf")
    return xr.open_dataset(path, engine="h5netcdf", group=group)


def load(path, group):
    """Group ``group`` of ``path`` read into memory (the file is closed again), with the root
    attributes (``status``, ``command``, ``config``, ...) added to its ``attrs`` and the path in
    ``encoding["source"]``."""
    with xr.open_dataset(os.fspath(path), engine="h5netcdf", group=group) as ds:
        out = ds.load()
    with h5py.File(path, "r", locking=False) as f:
        for k in _ROOT_ATTRS:
            if k in f.attrs and k not in out.attrs:
                v = f.attrs[k]
                out.attrs[k] = v.decode() if isinstance(v, bytes) else v
    out.encoding["source"] = os.fspath(path)
    return out


_session_dir = None


def scratch(name):
    """A fresh path ``name`` in this session's temporary directory (removed at exit)."""
    global _session_dir
    if _session_dir is None:
        _session_dir = tempfile.mkdtemp(prefix="mfl-")
        atexit.register(shutil.rmtree, _session_dir, True)
    d = tempfile.mkdtemp(dir=_session_dir)
    return os.path.join(d, name)
