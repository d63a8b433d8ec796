//! HDF5 output, written incrementally (DESIGN.md §4).
//!
//! Layout: root attributes `mfl_version`, `command`, `config` (the resolved TOML), `status`
//! (`running` while the run goes on, then `complete` or `failed: <reason>`); `/grid/theta_a`
//! (cell centres), `/time` and `/density` [snapshot, n0(, n1)]; `/diagnostics/<name>` time series;
//! `/particles/*`; `/compare/*`. Series and snapshot stacks are chunked and extendable, and the
//! file is flushed after every append, so a run that is killed leaves a file that opens with the
//! records written so far (and `status = running`).

use hdf5::types::VarLenUnicode;
use hdf5::{Dataset, File};
use ndarray::{ArrayD, ArrayViewD};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// An HDF5 failure, naming the file and what was being written or read.
#[derive(Debug, Error)]
#[error("HDF5 file '{path}': {what}: {msg}")]
pub struct H5Error {
    /// The file.
    pub path: String,
    /// The dataset, attribute or operation.
    pub what: String,
    /// The HDF5 library's reason.
    pub msg: String,
}

fn err(path: &Path, what: impl Into<String>) -> impl FnOnce(hdf5::Error) -> H5Error {
    let p = path.display().to_string();
    let w = what.into();
    move |e| H5Error {
        path: p,
        what: w,
        msg: e.to_string(),
    }
}

/// An output file being written.
pub struct OutputFile {
    file: File,
    path: PathBuf,
    /// name → (dataset, rows written)
    stacks: HashMap<String, (Dataset, usize)>,
}

impl OutputFile {
    /// Create (truncate) `path`, with the root attributes of a run in progress.
    pub fn create(path: &Path, command: &str, config_toml: &str) -> Result<Self, H5Error> {
        let file = File::create(path).map_err(err(path, "cannot create"))?;
        let out = OutputFile {
            file,
            path: path.to_path_buf(),
            stacks: HashMap::new(),
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

    /// Write a whole (fixed-size) dataset.
    pub fn write_array(&self, name: &str, data: ArrayViewD<f64>) -> Result<(), H5Error> {
        self.ensure_parent(name)?;
        let owned = data.as_standard_layout();
        self.file
            .new_dataset_builder()
            .with_data(&owned)
            .create(name)
            .map_err(err(&self.path, format!("dataset {name}")))?;
        Ok(())
    }

    /// Append one frame (a scalar, a vector or a 2D array) to the extendable stack `name` of
    /// shape [n, frame shape...].
    pub fn append(&mut self, name: &str, frame: ArrayViewD<f64>) -> Result<(), H5Error> {
        self.append_at(name, 0, frame)
    }

    /// Append one frame to the stack `name` whose extendable axis is `axis`: the dataset has
    /// the frame's shape with the growing axis inserted at `axis` (e.g. `axis = 1` appends the
    /// column of every seed to a [seed, time] table). The frame's shape must stay the same.
    pub fn append_at(
        &mut self,
        name: &str,
        axis: usize,
        frame: ArrayViewD<f64>,
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
                .new_dataset::<f64>()
                .chunk(chunk)
                .shape(shape)
                .create(name)
                .map_err(err(&self.path, format!("dataset {name}")))?;
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

    /// Append a scalar to the series `name`.
    pub fn append_scalar(&mut self, name: &str, v: f64) -> Result<(), H5Error> {
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
    let f = File::open(path).map_err(err(path, "cannot open"))?;
    let ds = f
        .dataset(name)
        .map_err(err(path, format!("dataset {name}")))?;
    ds.read_dyn::<f64>()
        .map_err(err(path, format!("read {name}")))
}

/// Read a string attribute of the object at `obj` ("/" for the root).
pub fn read_attr(path: &Path, obj: &str, name: &str) -> Result<String, H5Error> {
    let f = File::open(path).map_err(err(path, "cannot open"))?;
    let what = format!("attribute {obj}:{name}");
    let loc = location(&f, path, obj, &what)?;
    let a = loc.attr(name).map_err(err(path, what.clone()))?;
    let v: VarLenUnicode = a.read_scalar().map_err(err(path, what))?;
    Ok(v.as_str().to_string())
}

/// Read a numeric attribute of the object at `obj` ("/" for the root).
pub fn read_attr_f64(path: &Path, obj: &str, name: &str) -> Result<f64, H5Error> {
    let f = File::open(path).map_err(err(path, "cannot open"))?;
    let what = format!("attribute {obj}:{name}");
    let loc = location(&f, path, obj, &what)?;
    let a = loc.attr(name).map_err(err(path, what.clone()))?;
    a.read_scalar::<f64>().map_err(err(path, what))
}

/// The names of all datasets in the file (full paths), sorted.
pub fn list_datasets(path: &Path) -> Result<Vec<(String, Vec<usize>)>, H5Error> {
    let f = File::open(path).map_err(err(path, "cannot open"))?;
    let mut out = Vec::new();
    fn walk(
        g: &hdf5::Group,
        prefix: &str,
        out: &mut Vec<(String, Vec<usize>)>,
    ) -> hdf5::Result<()> {
        for name in g.member_names()? {
            let full = format!("{prefix}/{name}");
            if let Ok(ds) = g.dataset(&name) {
                out.push((full, ds.shape()));
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
