//! The real binary end to end: poll twice, run the daemon, read the output, stop it with SIGTERM.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::{Route, TestConfig, TestServer, feeds_toml, feedsift, fixture};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hashtagged_story_from_two_feeds_reaches_the_reader_once() {
    let server = TestServer::start().await;
    server.serve("/vb.rss", Route::ok(fixture("openai_story.rss")));
    server.serve("/digest.atom", Route::ok(fixture("openai_story_copy.atom")));
    let config = TestConfig::write(&format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n{}[[output]]\nname = \"openai\"\nfilter = \"#OpenAI\"\n",
        feeds_toml(&[
            ("vb", &server.url("/vb.rss"), &[]),
            ("digest", &server.url("/digest.atom"), &[])
        ])
    ));

    let poll = || async {
        let out = feedsift()
            .arg("poll")
            .arg("-c")
            .arg(&config.path)
            .arg("--all")
            .output()
            .await
            .expect("run poll");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        poll()
            .await
            .contains("2 fetched, 0 not modified, 0 failed; 3 new items")
    );
    assert!(
        poll()
            .await
            .contains("0 new items, 0 updated, 0 deduplicated")
    );

    let mut daemon = feedsift()
        .arg("run")
        .arg("-c")
        .arg(&config.path)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start daemon");
    let mut lines = BufReader::new(daemon.stderr.take().expect("stderr")).lines();
    let addr = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("read stderr") {
            if let Some(rest) = line.split("addr=").nth(1) {
                return rest.split_whitespace().next().map(str::to_string);
            }
        }
        None
    })
    .await
    .expect("daemon starts in time")
    .expect("daemon logs its address");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let body = reqwest::get(format!("http://{addr}/feeds/openai.atom"))
        .await
        .expect("GET output")
        .bytes()
        .await
        .expect("body");
    let feed = feed_rs::parser::parse(&body[..]).expect("valid Atom");
    assert_eq!(feed.entries.len(), 1);
    let via = feed.entries[0]
        .links
        .iter()
        .filter(|l| l.rel.as_deref() == Some("via"))
        .count();
    assert_eq!(via, 2);
    let text = String::from_utf8_lossy(&body);
    assert!(
        !text.contains("Robots forecast"),
        "an item without #OpenAI leaked into the output"
    );

    let pid = daemon.id().expect("pid").to_string();
    let killed = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("kill");
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(10), daemon.wait())
        .await
        .expect("daemon stops within 10 s")
        .expect("wait");
    assert_eq!(status.code(), Some(0));
}
