//! The command line's contract: exit codes and messages for bad configs and arguments.

use crate::support::{TestConfig, feedsift, run_feedsift};

/// Runs `feedsift check` on a config; returns exit code and stderr.
async fn check(text: &str) -> (Option<i32>, String) {
    let config = TestConfig::write(text);
    let ran = run_feedsift("check", &config.path, &[]).await;
    (ran.code, ran.stderr)
}

#[tokio::test]
async fn each_config_error_names_file_line_and_key_and_exits_2() {
    let cases = [
        (
            "[fetch]\ntimeout = \"20s\"\ntimeuot = \"1s\"\n",
            ":3: timeuot: unknown field",
        ),
        ("[[feed]]\nurl = \"htp:/bad\"\n", ":2: feed.url:"),
        (
            "[[feed]]\nurl = \"https://a.example/\"\ninterval = \"soon\"\n",
            ":3: feed.interval:",
        ),
        (
            "[storage]\nretention = \"forever\"\n",
            ":2: storage.retention:",
        ),
        (
            "[[feed]]\nurl = \"https://a.example/\"\nname = \"x\"\n[[feed]]\nurl = \"https://b.example/\"\nname = \"x\"\n",
            ":6: feed.name: duplicate feed name `x`",
        ),
        (
            "[[output]]\nname = \"o\"\nfilter = \"#a or\"\n",
            ":3: output.filter:",
        ),
    ];
    for (text, expected) in cases {
        let (code, stderr) = check(text).await;
        assert_eq!(code, Some(2), "{text}\n{stderr}");
        assert!(
            stderr.contains("feedsift.toml") && stderr.contains(expected),
            "{text}\n{stderr}"
        );
    }
}

#[tokio::test]
async fn a_valid_config_checks_with_a_summary() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config/example.toml");
    let out = feedsift()
        .args(["check", "-c", example])
        .output()
        .await
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("4 feeds, 3 outputs"), "{stdout}");
}

#[tokio::test]
async fn a_missing_config_and_an_unknown_feed_are_bad_input() {
    let missing = run_feedsift(
        "check",
        std::path::Path::new("/nonexistent/feedsift.toml"),
        &[],
    )
    .await;
    assert_eq!(missing.code, Some(2));
    let config = TestConfig::write("");
    let ran = run_feedsift("poll", &config.path, &["--feed", "nope"]).await;
    assert_eq!(ran.code, Some(2));
    assert!(
        ran.stderr.contains("no feed named `nope`"),
        "{}",
        ran.stderr
    );
}

#[tokio::test]
async fn the_config_is_found_through_the_environment() {
    let config = TestConfig::write("");
    let out = feedsift()
        .arg("check")
        .env("FEEDSIFT_CONFIG", &config.path)
        .output()
        .await
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
