//! Reading finite data sets: CSV with columns x_1, …, x_d, y (an optional header line).

use crate::error::ConfigError;
use ndarray::{Array1, Array2};
use std::path::Path;

/// Read `path` as rows of d + 1 numbers (comma separated; empty lines and `#` comments are
/// skipped, wherever they are). The first other line is a header when none of its cells is a
/// number; a row with some numeric cells and a bad one is an error naming the line, never a
/// header. Every row must have `d + 1` finite values.
pub fn read_xy(path: &Path, d: usize) -> Result<(Array2<f64>, Array1<f64>), ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::DataFile {
        path: shown.clone(),
        line: None,
        msg: e.to_string(),
    })?;
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    let mut first = true;
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = l.split(',').map(str::trim).collect();
        let parsed: Result<Vec<f64>, _> = fields.iter().map(|f| f.parse::<f64>()).collect();
        let is_first = std::mem::replace(&mut first, false);
        let vals = match parsed {
            Ok(v) => v,
            Err(_) if is_first && fields.iter().all(|f| f.parse::<f64>().is_err()) => continue, // header
            Err(_) => {
                return Err(ConfigError::DataFile {
                    path: shown,
                    line: Some(line_no),
                    msg: match fields.iter().position(|f| f.parse::<f64>().is_err()) {
                        Some(k) => format!("column {} is not a number ('{}')", k + 1, fields[k]),
                        None => format!("not a number in '{l}'"),
                    },
                })
            }
        };
        if vals.len() != d + 1 {
            return Err(ConfigError::DataFile {
                path: shown,
                line: Some(line_no),
                msg: format!(
                    "expected {} columns (x_1..x_{d}, y), found {}",
                    d + 1,
                    vals.len()
                ),
            });
        }
        if let Some(bad) = vals.iter().position(|v| !v.is_finite()) {
            return Err(ConfigError::DataFile {
                path: shown,
                line: Some(line_no),
                msg: format!("column {} is not finite ({})", bad + 1, fields[bad]),
            });
        }
        xs.extend_from_slice(&vals[..d]);
        ys.push(vals[d]);
    }
    if ys.is_empty() {
        return Err(ConfigError::DataFile {
            path: shown,
            line: None,
            msg: "no data rows".into(),
        });
    }
    let n = ys.len();
    Ok((
        Array2::from_shape_vec((n, d), xs).expect("n·d values"),
        Array1::from_vec(ys),
    ))
}
