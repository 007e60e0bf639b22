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
            ":3: fetch.timeuot: unknown field",
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

#[tokio::test]
async fn opml_imports_keep_the_config_comments_and_round_trip_through_export() {
    let opml = r#"<?xml version="1.0"?>
<opml version="2.0"><head><title>From my reader</title></head><body>
  <outline text="News"><outline text="World">
    <outline text="Wire" type="rss" xmlUrl="https://wire.example/rss"/>
  </outline></outline>
  <outline text="Blog" type="rss" xmlUrl="https://blog.example/atom.xml"/>
</body></opml>"#;
    let config = TestConfig::write(
        "# Hand-written: keep this comment.\n[server]\nlisten = \"127.0.0.1:8080\" # loopback only\n",
    );
    let file = config.path.with_file_name("reader.opml");
    std::fs::write(&file, opml).expect("opml");
    let ran = run_feedsift("import-opml", &config.path, &[&file.to_string_lossy()]).await;
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(ran.stdout.contains("added 2 feeds"), "{}", ran.stdout);
    let text = std::fs::read_to_string(&config.path).expect("config");
    assert!(
        text.contains("# Hand-written: keep this comment.") && text.contains("# loopback only"),
        "{text}"
    );
    assert!(text.contains("tags = [\"News\", \"World\"]"), "{text}");
    assert_eq!(run_feedsift("check", &config.path, &[]).await.code, Some(0));

    let again = run_feedsift("import-opml", &config.path, &[&file.to_string_lossy()]).await;
    assert!(
        again.stdout.contains("added 0 feeds (2 already there)"),
        "{}",
        again.stdout
    );

    let exported = run_feedsift("export-opml", &config.path, &[]).await;
    assert_eq!(exported.code, Some(0), "{}", exported.stderr);
    let fresh = TestConfig::write("");
    let round = fresh.path.with_file_name("exported.opml");
    std::fs::write(&round, &exported.stdout).expect("write export");
    let reimported = run_feedsift("import-opml", &fresh.path, &[&round.to_string_lossy()]).await;
    assert!(
        reimported.stdout.contains("added 2 feeds"),
        "{}",
        reimported.stdout
    );
    let roundtrip = fresh.load();
    let feeds: Vec<_> = roundtrip
        .feeds
        .iter()
        .map(|f| (f.url.to_string(), f.tags.clone()))
        .collect();
    assert_eq!(
        feeds,
        [
            (
                "https://wire.example/rss".to_string(),
                vec!["News".to_string(), "World".to_string()]
            ),
            ("https://blog.example/atom.xml".to_string(), vec![])
        ]
    );

    let bad = TestConfig::write("");
    let not_opml = bad.path.with_file_name("not.opml");
    std::fs::write(&not_opml, "<html></html>").expect("write");
    let refused = run_feedsift("import-opml", &bad.path, &[&not_opml.to_string_lossy()]).await;
    assert_eq!(refused.code, Some(2));
    assert_eq!(
        std::fs::read_to_string(&bad.path).expect("config"),
        "",
        "nothing written"
    );
}

#[tokio::test]
async fn poll_without_flags_polls_only_the_due_feeds() {
    let server = crate::support::TestServer::start().await;
    server.serve(
        "/vb.rss",
        crate::support::Route::ok(crate::support::fixture("openai_story.rss")),
    );
    let config = TestConfig::write(&crate::support::feeds_toml(&[(
        "vb",
        &server.url("/vb.rss"),
        &[],
    )]));
    let first = run_feedsift("poll", &config.path, &[]).await;
    assert!(first.stdout.starts_with("1 fetched"), "{}", first.stdout);
    let second = run_feedsift("poll", &config.path, &[]).await;
    assert!(
        second
            .stdout
            .starts_with("0 fetched, 0 not modified, 0 failed"),
        "nothing is due yet: {}",
        second.stdout
    );
    assert_eq!(server.requests("/vb.rss").len(), 1);
}

#[tokio::test]
async fn each_cause_of_an_error_is_printed_once() {
    let dir = tempfile::tempdir().expect("dir");
    let missing = dir.path().join("missing.toml");
    let ran = run_feedsift("check", &missing, &[]).await;
    assert_eq!(
        ran.stderr.matches("No such file or directory").count(),
        1,
        "{}",
        ran.stderr
    );

    // A database path that is a directory cannot be opened.
    let config = TestConfig::write(&format!("[storage]\npath = \"{}\"\n", dir.path().display()));
    let ran = run_feedsift("feeds", &config.path, &[]).await;
    assert_ne!(ran.code, Some(0));
    let path = dir.path().display().to_string();
    assert_eq!(ran.stderr.matches(&path).count(), 1, "{}", ran.stderr);
    assert_eq!(
        ran.stderr.matches("unable to open").count(),
        1,
        "{}",
        ran.stderr
    );
}

#[tokio::test]
async fn exit_codes_are_0_ok_2_bad_config_or_arguments_1_anything_else() {
    let dir = tempfile::tempdir().expect("dir");
    let unreachable = "[[feed]]\nname = \"down\"\nurl = \"http://127.0.0.1:9/feed\"\nallow_private = true\n\n[[output]]\nname = \"all\"\n";
    let config = TestConfig::write(&format!("[fetch]\ntimeout = \"2s\"\n\n{unreachable}"));
    let cases: [(&str, Vec<String>, i32); 4] = [
        ("poll", vec!["--all".into()], 1),
        (
            "render",
            vec!["all".into(), "-o".into(), "/nonexistent/x.atom".into()],
            2,
        ),
        (
            "import-opml",
            vec![dir.path().join("missing.opml").display().to_string()],
            2,
        ),
        ("render", vec!["nosuchoutput".into()], 2),
    ];
    for (command, args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let ran = run_feedsift(command, &config.path, &args).await;
        assert_eq!(
            ran.code,
            Some(expected),
            "{command} {args:?}: {}",
            ran.stderr
        );
        assert_eq!(
            ran.stderr
                .lines()
                .filter(|l| l.starts_with("feedsift:"))
                .count(),
            1,
            "{}",
            ran.stderr
        );
    }
}

#[tokio::test]
async fn rust_log_debug_shows_feedsift_decisions_not_library_chatter() {
    let server = crate::support::TestServer::start().await;
    let config = crate::support::two_copies_config(&server, "");
    let ran = feedsift()
        .env("RUST_LOG", "debug")
        .args(["poll", "--all", "-c"])
        .arg(&config.path)
        .output()
        .await
        .expect("run");
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert!(stderr.contains("scheduled"), "{stderr}");
    assert!(stderr.contains("same story as a stored item"), "{stderr}");
    for library in ["hyper", "rustls", "reqwest"] {
        assert!(
            !stderr.lines().any(|l| l.contains(&format!(" {library}"))),
            "{library} lines in\n{stderr}"
        );
    }
}

#[tokio::test]
async fn on_a_terminal_log_lines_are_written_above_the_progress_bar() {
    let feeds: String = (0..6)
        .map(|i| format!("[[feed]]\nname = \"down{i}\"\nurl = \"http://127.0.0.1:9/{i}\"\nallow_private = true\n\n"))
        .collect();
    let config = TestConfig::write(&format!("[fetch]\nper_host_delay = \"0s\"\n\n{feeds}"));
    let binary = env!("CARGO_BIN_EXE_feedsift");
    // `script` gives the command a terminal, as a user's shell would.
    let out = tokio::process::Command::new("script")
        .args(["-qec"])
        .arg(format!("{binary} poll --all -c {}", config.path.display()))
        .arg("/dev/null")
        .output()
        .await
        .expect("script (util-linux) runs");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(screen.matches("WARN").count(), 6, "{screen}");
    let logged: Vec<&str> = screen.lines().filter(|l| l.contains("WARN")).collect();
    for line in logged {
        // What stays visible on the line: the text after the last carriage return.
        let visible = line.rsplit('\r').next().unwrap_or(line);
        assert!(
            !visible.contains(" feeds "),
            "the bar shares the log line: {line:?}"
        );
    }
}

#[tokio::test]
async fn import_opml_imports_the_feed_a_web_page_links_and_says_so() {
    let server = crate::support::TestServer::start().await;
    server.serve(
        "/blog/",
        crate::support::Route::ok(
            "<!DOCTYPE html><html><head><link rel=\"alternate\" type=\"application/atom+xml\" \
             href=\"/blog/atom.xml\"></head><body>Blog</body></html>",
        ),
    );
    server.serve(
        "/news.rss",
        crate::support::Route::ok(crate::support::fixture("openai_story.rss")),
    );
    let dir = tempfile::tempdir().expect("dir");
    let opml = dir.path().join("reader.opml");
    std::fs::write(
        &opml,
        format!(
            "<opml version=\"2.0\"><head/><body>\
             <outline text=\"Blog\" type=\"rss\" xmlUrl=\"{}\"/>\
             <outline text=\"News\" type=\"rss\" xmlUrl=\"{}\"/></body></opml>",
            server.url("/blog/"),
            server.url("/news.rss")
        ),
    )
    .expect("opml");
    let config = dir.path().join("feedsift.toml");
    let ran = feedsift()
        .arg("import-opml")
        .arg(&opml)
        .arg("-c")
        .arg(&config)
        .output()
        .await
        .expect("run");
    let stdout = String::from_utf8_lossy(&ran.stdout);
    assert_eq!(
        ran.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert!(
        stdout.contains("is a web page; importing the feed it links"),
        "{stdout}"
    );
    let written = std::fs::read_to_string(&config).expect("config");
    assert!(written.contains(&server.url("/blog/atom.xml")), "{written}");
    assert!(
        written.contains(&server.url("/news.rss")),
        "a feed stays as it is: {written}"
    );
}
