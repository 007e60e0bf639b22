//! What a user who clones the repository reads: the README is self-contained and its setup
//! works on a fresh machine.

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README")
}

#[test]
fn the_readme_needs_nothing_outside_the_repository() {
    let readme = readme();
    assert!(!readme.contains("../shared"), "points outside the clone");
    for needed in [
        "apt-get update",
        "build-essential",
        "cargo install --path .",
        "--offline=true",
        "What counts as the same story",
        "feedsift backup",
        "Exit codes",
    ] {
        assert!(readme.contains(needed), "the README lacks {needed:?}");
    }
}

#[test]
fn every_command_in_the_help_is_in_the_readme() {
    let readme = readme();
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_feedsift"))
        .arg("--help")
        .output()
        .expect("feedsift --help");
    let help = String::from_utf8_lossy(&help.stdout);
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 10, "{help}");
    for command in commands {
        assert!(
            readme.contains(&format!("feedsift {command}")),
            "README lacks `feedsift {command}`"
        );
    }
}
