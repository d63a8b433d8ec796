"""Open an `mfl solve` output with h5py and with xarray, and plot a density snapshot.

    pip install h5py xarray h5netcdf matplotlib
    mfl solve examples/quickstart_1d.toml -o quickstart.h5
    python examples/read_output.py quickstart.h5 [snapshot.png]

h5py reads datasets and the root attributes (`command`, `config`, `status`, `mfl_version`).
xarray opens the root and each group with the h5netcdf engine, with named dimensions and
coordinates (HDF5 dimension scales): /density is a DataArray over (snapshot, theta_0[, theta_1])
with the coordinate `time` along `snapshot`, /diagnostics a Dataset indexed by its `time`.
"""

import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import xarray as xr  # noqa: E402


def read_h5py(path):
    """The raw view: attributes and datasets."""
    with h5py.File(path, "r") as f:
        print(f"{path}: mfl {f.attrs['command']}, status {f.attrs['status']}")
        print("config (first lines):")
        for line in str(f.attrs["config"]).splitlines()[:6]:
            print("   ", line)

        def show(name, obj):
            if isinstance(obj, h5py.Dataset):
                print(f"  /{name:<28} {obj.shape}")

        f.visititems(show)
        t = f["diagnostics/time"][:]
        risk = f["diagnostics/risk"][:]
        free = f["diagnostics/free_energy"][:]
        print(f"final t = {t[-1]:g}: R = {risk[-1]:.6e}, F = {free[-1]:.6e}")


def read_diagnostics(path):
    """/diagnostics as an xarray Dataset, indexed by its `time` series."""
    return xr.open_dataset(path, engine="h5netcdf", group="diagnostics")


def read_xarray(path):
    """/density as a labelled DataArray over (time, theta_0[, theta_1])."""
    ds = xr.open_dataset(path, engine="h5netcdf")
    rho = ds.density.swap_dims(snapshot="time")
    rho.attrs.update({k: str(v) for k, v in ds.attrs.items()})
    return rho


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "quickstart.h5"
    out = sys.argv[2] if len(sys.argv) > 2 else "snapshot.png"
    read_h5py(path)
    diag = read_diagnostics(path)
    print(f"xarray /diagnostics: {len(diag.time)} times, R(t_end) = {float(diag.risk[-1]):.6e}")
    rho = read_xarray(path)
    last = rho.isel(time=-1)
    print(f"xarray: {dict(rho.sizes)}; mass at t = {float(last.time):g}:",
          float(last.integrate([d for d in last.dims])))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    if rho.ndim == 2:
        for i in sorted({0, rho.sizes["time"] // 2, rho.sizes["time"] - 1}):
            rho.isel(time=i).plot(ax=ax, label=f"t = {float(rho.time[i]):g}")
        ax.legend()
    else:
        last.plot(ax=ax, x="theta_0", y="theta_1")
    ax.set_title(f"{path}: density (mfl {rho.attrs.get('command', '?')})")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
