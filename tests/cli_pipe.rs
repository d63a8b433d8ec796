//! Output into a pipe that closes early (`mfl check … | head -1`) ends `mfl` quietly, as any
//! Unix filter does — never with a panic.

use std::process::{Command, Stdio};

#[test]
fn a_closed_stdout_is_not_a_panic() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/gap_1d.toml");
    for _ in 0..3 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mfl"))
            .arg("check")
            .arg(&example)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // close the reading end before mfl writes its first line
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{err}");
    }
}
