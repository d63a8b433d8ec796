//! HDF5 output, written incrementally (DESIGN.md §4).
//!
//! Layout: root attributes `mfl_version`, `command`, `config` (the resolved TOML), `config_hash`
//! (SHA-256 of that TOML and the input files, [`crate::scenario::fingerprint`]), `status`
//! (`running` while the run goes on, then `complete` or `failed: <reason>`); `/grid/theta_a`
//! (cell centres), `/time` and `/density` [snapshot, n0(, n1)]; `/diagnostics/<name>` time series;
//! `/particles/*`; `/compare/*`. Series and snapshot stacks are chunked and extendable, and the
//! file is flushed after every append, so a run that is killed leaves a file that opens with the
//! records written so far (and `status = running`). Every dataset gets the named dimensions
//! and CF attributes of [`crate::layout`] when it is created, its dimension scales attached
//! ([`crate::scales`]), so xarray (h5netcdf) opens the root and each group with named
//! dimensions and coordinates.

use crate::layout;
use hdf5::types::VarLenUnicode;
use hdf5::{Dataset, File, H5Type};
use ndarray::{ArrayD, ArrayViewD};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// An HDF5 failure, naming the file and what was being written or read.
/// Shown in one line: `cannot create OUT.h5: <why>` (or `OUT.h5: write /density: <why>`).
#[derive(Debug, Error)]
#[error("{}", self.line())]
pub struct H5Error {
    /// The file.
    pub path: String,
    /// The dataset, attribute or operation.
    pub what: String,
    /// The HDF5 library's reason.
    pub msg: String,
}

impl H5Error {
    fn line(&self) -> String {
        if self.what.starts_with("cannot ") {
            format!("{} {}: {}", self.what, self.path, self.msg)
        } else {
            format!("{}: {}: {}", self.path, self.what, self.msg)
        }
    }
}

fn err(path: &Path, what: impl Into<String>) -> impl FnOnce(hdf5::Error) -> H5Error {
    let p = path.display().to_string();
    let w = what.into();
    move |e| H5Error {
        path: p,
        what: w,
        msg: io_reason(&e),
    }
}

/// One line saying why an HDF5 call failed: the operating system's reason when the call
/// failed in a write or read of the file (`No space left on device`, `Input/output error`,
/// ...), otherwise the first line of the HDF5 message, never the whole stack.
fn io_reason(e: &hdf5::Error) -> String {
    let os = std::io::Error::last_os_error();
    #[cfg(unix)]
    {
        let io_codes = [
            libc::ENOSPC,
            libc::EDQUOT,
            libc::EIO,
            libc::EROFS,
            libc::EFBIG,
            libc::EACCES,
            libc::EPERM,
            libc::ENOENT,
            libc::EISDIR,
            libc::ENOTDIR,
        ];
        if let Some(code) = os.raw_os_error() {
            let text = one_line(e);
            // errno is only trusted right after a failed write (open failures leave stale
            // values from HDF5's own probing)
            let is_io = text.contains("write failed")
                || text.contains("bytes actually written")
                || text.contains("flush");
            if is_io && io_codes.contains(&code) {
                return std::io::Error::from_raw_os_error(code).to_string();
            }
        }
    }
    let _ = os;
    one_line(e)
}

/// What [`OutputFile::create_with`] does when the output already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse it (the default of every command): nothing is touched.
    Refuse,
    /// Replace it (`--force`), unless another process holds it open for writing.
    Replace,
}

/// An output file being written. It holds an exclusive advisory lock (`flock`) on the path
/// from before the file is truncated until it is dropped, so a second writer is refused
/// before it can damage the first one's file.
pub struct OutputFile {
    file: File,
    path: PathBuf,
    /// name → (dataset, rows written)
    stacks: HashMap<String, (Dataset, usize)>,
    /// (dataset, axis, scale) attachments waiting for their scale to be written.
    pending: RefCell<Vec<(String, usize, String)>>,
    /// The lock (held while this value lives; released when the descriptor closes).
    _lock: std::fs::File,
}

/// Whether a failed `flock` means someone else holds the lock.
#[cfg(unix)]
fn lock_exclusive(f: &std::fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor owned by `f`, which outlives the call.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn lock_exclusive(_f: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

/// HDF5's own advisory locking is turned off for every file mfl opens: the writer holds its
/// own lock on the path (taken before truncating, see [`OutputFile`]), and readers
/// (`mfl inspect`, `mfl plot`) can then open a file while a run is still writing it.
fn builder() -> hdf5::FileBuilder {
    let mut b = File::with_options();
    b.with_fapl(|p| p.file_locking(false));
    b
}

/// Open an HDF5 file read-only, without HDF5's advisory lock, so that a file still being
/// written by a run can be read (its `status` is then `running`).
pub fn open_read(path: &Path) -> Result<File, H5Error> {
    if let Err(e) = std::fs::metadata(path) {
        return Err(H5Error {
            path: path.display().to_string(),
            what: "cannot open".into(),
            msg: e.to_string(),
        });
    }
    builder().open(path).map_err(|e| H5Error {
        path: path.display().to_string(),
        what: "cannot open".into(),
        msg: format!("not a readable HDF5 file ({})", io_reason(&e)),
    })
}

/// The first line of an HDF5 error (its stack's top-level message), never the whole stack.
fn one_line(e: &hdf5::Error) -> String {
    let s = e.to_string();
    s.lines().next().unwrap_or("").trim().to_string()
}

impl OutputFile {
    /// Create `path`, with the root attributes of a run in progress; an existing file is
    /// refused ([`Existing::Refuse`]).
    pub fn create(path: &Path, command: &str, config_toml: &str) -> Result<Self, H5Error> {
        Self::create_with(path, command, config_toml, Existing::Refuse)
    }

    /// Create `path` (with [`Existing::Replace`], truncate an existing one), with the root
    /// attributes of a run in progress. The exclusive lock is taken on the path *before*
    /// anything is truncated: a file another run is writing (or another process holds
    /// locked) is refused untouched.
    pub fn create_with(
        path: &Path,
        command: &str,
        config_toml: &str,
        existing: Existing,
    ) -> Result<Self, H5Error> {
        let fail = |what: &str, msg: String| H5Error {
            path: path.display().to_string(),
            what: what.into(),
            msg,
        };
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true);
        match existing {
            Existing::Refuse => opts.create_new(true),
            Existing::Replace => opts.create(true),
        };
        let lock = opts.open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                fail(
                    "cannot create",
                    "the file exists (give --force to replace it)".into(),
                )
            } else {
                fail("cannot create", e.to_string())
            }
        })?;
        if !lock.metadata().map(|m| m.is_file()).unwrap_or(false) {
            return Err(fail("cannot create", "not a regular file".into()));
        }
        lock_exclusive(&lock).map_err(|e| {
            if e.kind() == std::io::ErrorKind::WouldBlock {
                fail(
                    "cannot create",
                    "another process is writing it (the file is locked); it was left untouched"
                        .into(),
                )
            } else {
                fail("cannot lock", e.to_string())
            }
        })?;
        let file = builder()
            .create(path)
            .map_err(|e| fail("cannot create", io_reason(&e)))?;
        let out = OutputFile {
            file,
            path: path.to_path_buf(),
            stacks: HashMap::new(),
            pending: RefCell::new(Vec::new()),
            _lock: lock,
        };
        out.set_attr("/", "mfl_version", env!("CARGO_PKG_VERSION"))?;
        out.set_attr("/", "command", command)?;
        out.set_attr("/", "config", config_toml)?;
        out.set_attr("/", "status", "running")?;
        out.flush()?;
        Ok(out)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Write (or overwrite) a string attribute on the object at `obj` ("/" for the root).
    pub fn set_attr(&self, obj: &str, name: &str, value: &str) -> Result<(), H5Error> {
        let v: VarLenUnicode = value.parse().map_err(|_| H5Error {
            path: self.path.display().to_string(),
            what: format!("attribute {name}"),
            msg: "string contains a NUL byte".into(),
        })?;
        let what = format!("attribute {obj}:{name}");
        let loc = location(&self.file, &self.path, obj, &what)?;
        if loc.attr(name).is_ok() {
            loc.delete_attr(name)
                .map_err(err(&self.path, what.clone()))?;
        }
        loc.new_attr::<VarLenUnicode>()
            .create(name)
            .and_then(|a| a.write_scalar(&v))
            .map_err(err(&self.path, what))
    }

    /// Write a numeric attribute.
    pub fn set_attr_f64(&self, obj: &str, name: &str, value: f64) -> Result<(), H5Error> {
        let what = format!("attribute {obj}:{name}");
        let loc = location(&self.file, &self.path, obj, &what)?;
        if loc.attr(name).is_ok() {
            loc.delete_attr(name)
                .map_err(err(&self.path, what.clone()))?;
        }
        loc.new_attr::<f64>()
            .create(name)
            .and_then(|a| a.write_scalar(&value))
            .map_err(err(&self.path, what))
    }

    fn ensure_parent(&self, name: &str) -> Result<(), H5Error> {
        let mut cur = String::new();
        let parts: Vec<&str> = name.trim_start_matches('/').split('/').collect();
        for p in &parts[..parts.len().saturating_sub(1)] {
            cur.push('/');
            cur.push_str(p);
            if self.file.group(&cur).is_err() {
                self.file
                    .create_group(&cur)
                    .map_err(err(&self.path, format!("group {cur}")))?;
            }
        }
        Ok(())
    }

    /// Write a whole (fixed-size) dataset (f64, or an integer type for counts and seeds).
    pub fn write_array<T: H5Type + Clone>(
        &self,
        name: &str,
        data: ArrayViewD<T>,
    ) -> Result<(), H5Error> {
        self.ensure_parent(name)?;
        let owned = data.as_standard_layout();
        let ds = self
            .file
            .new_dataset_builder()
            .with_data(&owned)
            .create(name)
            .map_err(err(&self.path, format!("dataset {name}")))?;
        self.describe(name, &ds, None)
    }

    /// Give the new dataset `name` its layout: the CF attributes of [`layout::var`], its own
    /// scale when it is a coordinate variable, and its dimension scales attached (pure
    /// dimensions are created here; a coordinate not written yet is attached when it is).
    /// `grows` is the extendable axis of a stack. Paths the layout does not know are left
    /// as they are.
    fn describe(&self, name: &str, ds: &Dataset, grows: Option<usize>) -> Result<(), H5Error> {
        let fail = |msg: String| H5Error {
            path: self.path.display().to_string(),
            what: format!("dimension scales of {name}"),
            msg,
        };
        if let Some(v) = layout::var(name) {
            for (key, value) in [
                ("long_name", v.long_name),
                ("units", v.units),
                ("description", v.description),
                ("coordinates", v.coordinates),
            ] {
                if !value.is_empty() {
                    self.set_attr(name, key, value)?;
                }
            }
            let shape = ds.shape();
            if v.dims.len() >= shape.len() {
                if shape.len() == 1 && v.dims[0] == name {
                    crate::scales::set_scale(ds, layout::dim_name(name)).map_err(fail)?;
                } else {
                    for (axis, dim) in v.dims[..shape.len()].iter().enumerate() {
                        if layout::PURE_DIMENSIONS.contains(dim) {
                            self.pure_dimension(dim, shape[axis], grows == Some(axis))?;
                        }
                        self.pending
                            .borrow_mut()
                            .push((name.to_string(), axis, dim.to_string()));
                    }
                }
            }
        }
        let waiting = std::mem::take(&mut *self.pending.borrow_mut());
        let mut left = Vec::new();
        for (var, axis, scale) in waiting {
            match (self.file.dataset(&var), self.file.dataset(&scale)) {
                (Ok(d), Ok(s)) => crate::scales::attach(&d, &s, axis).map_err(fail)?,
                _ => left.push((var, axis, scale)),
            }
        }
        self.pending.borrow_mut().extend(left);
        Ok(())
    }

    /// The scale of a dimension without values (`len` long, or extendable when `unlimited`),
    /// created once.
    fn pure_dimension(&self, path: &str, len: usize, unlimited: bool) -> Result<(), H5Error> {
        if self.file.dataset(path).is_ok() {
            return Ok(());
        }
        self.ensure_parent(path)?;
        let b = self.file.new_dataset::<f32>();
        let ds = if unlimited {
            b.chunk(1024).shape(hdf5::Extent::resizable(0)).create(path)
        } else {
            b.shape(len).create(path)
        }
        .map_err(err(&self.path, format!("dimension {path}")))?;
        let name = crate::scales::pure_name(if unlimited { 0 } else { len });
        crate::scales::set_scale(&ds, &name).map_err(|msg| H5Error {
            path: self.path.display().to_string(),
            what: format!("dimension {path}"),
            msg,
        })
    }

    /// Append one frame (a scalar, a vector or a 2D array) to the extendable stack `name` of
    /// shape [n, frame shape...].
    pub fn append<T: H5Type + Clone>(
        &mut self,
        name: &str,
        frame: ArrayViewD<T>,
    ) -> Result<(), H5Error> {
        self.append_at(name, 0, frame)
    }

    /// Append one frame to the stack `name` whose extendable axis is `axis`: the dataset has
    /// the frame's shape with the growing axis inserted at `axis` (e.g. `axis = 1` appends the
    /// column of every seed to a [seed, time] table). The frame's shape must stay the same.
    pub fn append_at<T: H5Type + Clone>(
        &mut self,
        name: &str,
        axis: usize,
        frame: ArrayViewD<T>,
    ) -> Result<(), H5Error> {
        let fshape = frame.shape().to_vec();
        if axis > fshape.len() {
            return Err(H5Error {
                path: self.path.display().to_string(),
                what: format!("dataset {name}"),
                msg: format!("cannot grow axis {axis} of a {}-d frame", fshape.len()),
            });
        }
        if !self.stacks.contains_key(name) {
            self.ensure_parent(name)?;
            let mut shape: Vec<hdf5::Extent> =
                fshape.iter().map(|&n| hdf5::Extent::fixed(n)).collect();
            shape.insert(axis, hdf5::Extent::resizable(0));
            let per: usize = fshape.iter().product::<usize>().max(1);
            let rows = (65536 / per).clamp(1, 4096);
            let mut chunk: Vec<usize> = fshape.iter().map(|&n| n.max(1)).collect();
            chunk.insert(axis, rows);
            let ds = self
                .file
                .new_dataset::<T>()
                .chunk(chunk)
                .shape(shape)
                .create(name)
                .map_err(err(&self.path, format!("dataset {name}")))?;
            self.describe(name, &ds, Some(axis))?;
            self.stacks.insert(name.to_string(), (ds, 0));
        }
        let (ds, n) = self.stacks.get_mut(name).expect("inserted");
        let mut shape = fshape.clone();
        shape.insert(axis, *n + 1);
        ds.resize(shape)
            .map_err(err(&self.path, format!("extend {name}")))?;
        let with_row = frame
            .as_standard_layout()
            .to_owned()
            .insert_axis(ndarray::Axis(axis))
            .as_standard_layout()
            .to_owned();
        let mut sel: Vec<hdf5::SliceOrIndex> = fshape
            .iter()
            .map(|&k| hdf5::SliceOrIndex::from(0..k))
            .collect();
        sel.insert(axis, hdf5::SliceOrIndex::from(*n..*n + 1));
        ds.write_slice(&with_row, hdf5::Hyperslab::from(sel))
            .map_err(err(&self.path, format!("write {name}")))?;
        *n += 1;
        Ok(())
    }

    /// Append a scalar to the series `name` (f64, or an integer type).
    pub fn append_scalar<T: H5Type + Clone>(&mut self, name: &str, v: T) -> Result<(), H5Error> {
        self.append(name, ndarray::arr0(v).into_dyn().view())
    }

    /// Flush everything written so far to disk.
    pub fn flush(&self) -> Result<(), H5Error> {
        self.file.flush().map_err(err(&self.path, "flush"))
    }

    /// Mark the run finished: `status = complete` or `failed: reason`, then flush.
    pub fn finish(&self, status: &str) -> Result<(), H5Error> {
        self.set_attr("/", "status", status)?;
        self.flush()
    }
}

/// The group or dataset at `obj` ("/" for the root) as an attribute holder.
fn location(f: &File, path: &Path, obj: &str, what: &str) -> Result<hdf5::Location, H5Error> {
    let r = if obj == "/" {
        f.as_location()
    } else if let Ok(g) = f.group(obj) {
        g.as_location()
    } else {
        f.dataset(obj).and_then(|d| d.as_location())
    };
    r.map_err(err(path, what))
}

/// Read a whole dataset as f64.
pub fn read_array(path: &Path, name: &str) -> Result<ArrayD<f64>, H5Error> {
    let f = open_read(path)?;
    let ds = f
        .dataset(name)
        .map_err(err(path, format!("dataset {name}")))?;
    ds.read_dyn::<f64>()
        .map_err(err(path, format!("read {name}")))
}

/// Read a string attribute of the object at `obj` ("/" for the root).
pub fn read_attr(path: &Path, obj: &str, name: &str) -> Result<String, H5Error> {
    let f = open_read(path)?;
    let what = format!("attribute {obj}:{name}");
    let loc = location(&f, path, obj, &what)?;
    let a = loc.attr(name).map_err(err(path, what.clone()))?;
    let v: VarLenUnicode = a.read_scalar().map_err(err(path, what))?;
    Ok(v.as_str().to_string())
}

/// Read a numeric attribute of the object at `obj` ("/" for the root).
pub fn read_attr_f64(path: &Path, obj: &str, name: &str) -> Result<f64, H5Error> {
    let f = open_read(path)?;
    let what = format!("attribute {obj}:{name}");
    let loc = location(&f, path, obj, &what)?;
    let a = loc.attr(name).map_err(err(path, what.clone()))?;
    a.read_scalar::<f64>().map_err(err(path, what))
}

/// The names of all datasets in the file (full paths), sorted; the scales of dimensions without
/// values ([`layout::PURE_DIMENSIONS`]) are not data and are left out.
pub fn list_datasets(path: &Path) -> Result<Vec<(String, Vec<usize>)>, H5Error> {
    let f = open_read(path)?;
    let mut out = Vec::new();
    fn walk(
        g: &hdf5::Group,
        prefix: &str,
        out: &mut Vec<(String, Vec<usize>)>,
    ) -> hdf5::Result<()> {
        for name in g.member_names()? {
            let full = format!("{prefix}/{name}");
            if let Ok(ds) = g.dataset(&name) {
                if !layout::PURE_DIMENSIONS.contains(&full.as_str()) {
                    out.push((full, ds.shape()));
                }
            } else if let Ok(sub) = g.group(&name) {
                walk(&sub, &full, out)?;
            }
        }
        Ok(())
    }
    walk(&f, "", &mut out).map_err(err(path, "list"))?;
    out.sort();
    Ok(out)
}
