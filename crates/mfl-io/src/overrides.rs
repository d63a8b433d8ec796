//! `--set key=value` overrides applied to a parsed TOML table before validation.

use crate::error::ConfigError;
use toml::{Table, Value};

/// Apply `a.b.c=value` to `table`. The value is read as a TOML value (`0.1`, `[1, 2]`, `"x"`,
/// `true`); anything that does not parse as one is taken as a bare string.
pub fn apply(table: &mut Table, assignment: &str) -> Result<(), ConfigError> {
    let (key, raw) = assignment.split_once('=').ok_or_else(|| {
        ConfigError::key(
            assignment,
            "an override is written key=value, e.g. --set solver.t_end=0.5",
        )
    })?;
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(ConfigError::key(key, "empty key in override"));
    }
    let raw = raw.trim();
    if raw.starts_with(['[', '{', '"', '\'']) {
        if let Err(e) = format!("v = {raw}").parse::<Table>() {
            // meant as an array, table or quoted string, but not valid TOML: say so
            return Err(ConfigError::Parse {
                path: format!("--set {assignment}"),
                msg: format!("`{raw}` is not a valid TOML value ({})", e.message().trim()),
            });
        }
    }
    let value = parse_value(raw);
    let parts: Vec<&str> = key.split('.').collect();
    let mut cur = table;
    for p in &parts[..parts.len() - 1] {
        let entry = cur
            .entry(p.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        cur = match entry {
            Value::Table(t) => t,
            _ => return Err(ConfigError::key(key, format!("`{p}` is not a table"))),
        };
    }
    cur.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

fn parse_value(raw: &str) -> Value {
    match format!("v = {raw}").parse::<Table>() {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| Value::String(raw.to_string())),
        Err(_) => Value::String(raw.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_nested_keys_with_typed_values() {
        let mut t: Table = "[solver]\nt_end = 1.0\n".parse().unwrap();
        apply(&mut t, "solver.t_end=0.25").unwrap();
        apply(&mut t, "grid.cells=[64, 32]").unwrap();
        apply(&mut t, "unit.activation=relu").unwrap();
        assert_eq!(t["solver"]["t_end"].as_float(), Some(0.25));
        assert_eq!(t["grid"]["cells"].as_array().unwrap().len(), 2);
        assert_eq!(t["unit"]["activation"].as_str(), Some("relu"));
        assert!(apply(&mut t, "novalue").is_err());
        assert!(apply(&mut t, "solver.t_end.x=1").is_err());
        let e = apply(&mut t, "grid.cells=[1,2").unwrap_err().to_string();
        assert!(
            e.starts_with("--set grid.cells=[1,2: ") && e.contains("not a valid TOML value"),
            "{e}"
        );
    }
}
