//! Configs from Python values: dicts to TOML, override values to `key=value` as `--set` takes
//! them, relative input paths made absolute (a config given as text is run from a temporary
//! file), and whole tables replaced. The config itself is parsed and validated only by mfl.

use crate::errors::ConfigError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use std::path::Path;
use toml::{Table, Value};

/// A Python value as a TOML value: dict → table, list/tuple/NumPy array → array, bool, int,
/// float, str; `where` names the key in the error.
fn value(obj: &Bound<'_, PyAny>, at: &str) -> PyResult<Value> {
    if obj.is_instance_of::<PyBool>() {
        return Ok(Value::Boolean(obj.extract()?));
    }
    if obj.is_instance_of::<PyInt>() {
        return Ok(Value::Integer(obj.extract()?));
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(Value::Float(obj.extract()?));
    }
    if obj.is_instance_of::<PyString>() {
        return Ok(Value::String(obj.extract()?));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut t = Table::new();
        for (k, v) in d.iter() {
            let k: String = k.extract()?;
            let sub = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            t.insert(k, value(&v, &sub)?);
        }
        return Ok(Value::Table(t));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut a = Vec::new();
        for item in obj.try_iter()? {
            a.push(value(&item?, at)?);
        }
        return Ok(Value::Array(a));
    }
    // NumPy arrays and scalars: through their Python values
    if obj.hasattr("tolist")? {
        return value(&obj.call_method0("tolist")?, at);
    }
    Err(ConfigError::new_err((
        format!(
            "invalid config key `{at}`: cannot put a {} into a TOML config",
            obj.get_type().name()?
        ),
        at.to_string(),
    )))
}

/// A dict as TOML text.
#[pyfunction]
pub fn to_toml(config: &Bound<'_, PyDict>) -> PyResult<String> {
    match value(config.as_any(), "")? {
        Value::Table(t) => toml::to_string(&t)
            .map_err(|e| ConfigError::new_err((format!("config: {e}"), None::<String>))),
        _ => unreachable!("a dict is a table"),
    }
}

/// `key=<TOML value>`, as `--set key=value` reads it.
#[pyfunction]
pub fn format_override(key: &str, val: &Bound<'_, PyAny>) -> PyResult<String> {
    let v = value(val, key)?;
    Ok(format!("{key}={v}"))
}

fn parse(text: &str) -> PyResult<Table> {
    text.parse::<Table>().map_err(|e| {
        ConfigError::new_err((format!("config: {}", e.to_string().trim()), None::<String>))
    })
}

/// `text` with the relative input paths (`data.path`, `init.file`) resolved against `base`
/// (a config given as text runs from a temporary file, not from `base`).
#[pyfunction]
pub fn absolutize(text: &str, base: &str) -> PyResult<String> {
    let mut t = parse(text)?;
    let mut changed = false;
    for (table, key) in [("data", "path"), ("init", "file")] {
        if let Some(Value::Table(tab)) = t.get_mut(table) {
            if let Some(Value::String(p)) = tab.get_mut(key) {
                if Path::new(p.as_str()).is_relative() {
                    *p = Path::new(base).join(&*p).display().to_string();
                    changed = true;
                }
            }
        }
    }
    if !changed {
        return Ok(text.to_string());
    }
    toml::to_string(&t).map_err(|e| ConfigError::new_err((format!("config: {e}"), None::<String>)))
}

/// `text` with the whole table `name` replaced by `entries` (used to point `[data]` or
/// `[init]` at a file written from NumPy arrays).
#[pyfunction]
pub fn set_table(text: &str, name: &str, entries: &Bound<'_, PyDict>) -> PyResult<String> {
    let mut t = parse(text)?;
    t.insert(name.to_string(), value(entries.as_any(), name)?);
    toml::to_string(&t).map_err(|e| ConfigError::new_err((format!("config: {e}"), None::<String>)))
}
