//! HDF5 dimension scales (the high-level library's H5DS, linked from libhdf5_hl): what makes
//! h5netcdf and xarray see named dimensions and coordinates (see [`crate::layout`]).

use hdf5::Dataset;
use hdf5_sys::h5::herr_t;
use hdf5_sys::h5i::hid_t;
use std::ffi::{c_char, c_uint, CString};

extern "C" {
    fn H5DSset_scale(dsid: hid_t, dimname: *const c_char) -> herr_t;
    fn H5DSattach_scale(did: hid_t, dsid: hid_t, idx: c_uint) -> herr_t;
}

/// The `NAME` of a scale that is a dimension without values (netCDF-4's convention, read by
/// h5netcdf): this sentence followed by the length, right-aligned in 10 characters.
pub fn pure_name(len: usize) -> String {
    format!("This is a netCDF dimension but not a netCDF variable.{len:10}")
}

/// Make `ds` a dimension scale with `NAME = name`.
pub fn set_scale(ds: &Dataset, name: &str) -> Result<(), String> {
    let c = CString::new(name).map_err(|_| "NUL in a scale name".to_string())?;
    // SAFETY: `ds` is an open dataset (its id is valid while `ds` lives) and `c` a
    // NUL-terminated string; HDF5's global lock is held by `sync`.
    let r = hdf5::sync::sync(|| unsafe { H5DSset_scale(ds.id(), c.as_ptr()) });
    if r < 0 {
        Err(format!("H5DSset_scale({name}) failed"))
    } else {
        Ok(())
    }
}

/// Attach the scale `scale` to axis `axis` of `ds`.
pub fn attach(ds: &Dataset, scale: &Dataset, axis: usize) -> Result<(), String> {
    let idx = c_uint::try_from(axis).map_err(|e| e.to_string())?;
    // SAFETY: both are open datasets of the same file; HDF5's global lock is held by `sync`.
    let r = hdf5::sync::sync(|| unsafe { H5DSattach_scale(ds.id(), scale.id(), idx) });
    if r < 0 {
        Err(format!("H5DSattach_scale(axis {axis}) failed"))
    } else {
        Ok(())
    }
}
