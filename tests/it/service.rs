//! The systemd unit: it passes `systemd-analyze verify` and rates "OK" (exposure 2.0 or lower)
//! in `systemd-analyze security`. `.ci/run` installs systemd when it is missing.

use std::path::Path;

/// The unit with ExecStart pointing at the binary just built, as verify checks that it exists.
fn unit_for_this_build(dir: &Path) -> std::path::PathBuf {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/systemd/feedsift.service"
    ))
    .expect("unit file");
    assert!(
        unit.contains("ExecStart=/usr/local/bin/feedsift run"),
        "the shipped unit runs the installed binary"
    );
    let path = dir.join("feedsift.service");
    std::fs::write(
        &path,
        unit.replace("/usr/local/bin/feedsift", env!("CARGO_BIN_EXE_feedsift")),
    )
    .expect("write unit");
    path
}

#[tokio::test]
async fn the_unit_verifies_and_rates_ok_for_security() {
    let dir = tempfile::tempdir().expect("dir");
    let unit = unit_for_this_build(dir.path());
    let verify = tokio::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .await
        .expect("systemd-analyze is installed (apt-get install systemd)");
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let security = tokio::process::Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--threshold=20"])
        .arg(&unit)
        .output()
        .await
        .expect("systemd-analyze");
    let report = String::from_utf8_lossy(&security.stdout);
    assert!(security.status.success(), "exposure above 2.0:\n{report}");
    assert!(
        report.contains("Overall exposure level for feedsift.service"),
        "{report}"
    );
}
