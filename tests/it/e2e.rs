//! The real binary end to end: poll twice, run the daemon, read the output, stop it with SIGTERM.

use crate::support::{Daemon, TestServer, run_feedsift, two_copies_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hashtagged_story_from_two_feeds_reaches_the_reader_once() {
    let server = TestServer::start().await;
    let config = two_copies_config(
        &server,
        "[[output]]\nname = \"openai\"\nfilter = \"#OpenAI\"\n",
    );

    let first = run_feedsift("poll", &config.path, &["--all"]).await;
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert!(
        first
            .stdout
            .contains("2 fetched, 0 not modified, 0 failed; 3 new items"),
        "{}",
        first.stdout
    );
    let second = run_feedsift("poll", &config.path, &["--all"]).await;
    assert!(
        second
            .stdout
            .contains("0 new items, 0 updated, 0 deduplicated"),
        "{}",
        second.stdout
    );

    let daemon = Daemon::start(&config.path).await;
    let body = reqwest::get(daemon.url("/feeds/openai.atom"))
        .await
        .expect("GET")
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
    assert!(
        !String::from_utf8_lossy(&body).contains("Robots forecast"),
        "an item without #OpenAI leaked"
    );
    assert_eq!(daemon.stop().await, Some(0));
}

/// glibc's malloc would give each busy thread an arena of its own and keep what is freed in
/// each (twice the memory in a soak); the daemon runs with two, set by starting itself again
/// under the same process id (so systemd and `kill` still see it).
#[tokio::test]
async fn the_daemon_runs_with_two_malloc_arenas() {
    let server = TestServer::start().await;
    let config = two_copies_config(&server, "");
    let daemon = Daemon::start(&config.path).await;
    let environment = daemon.environment();
    // A value the user set is kept.
    let expected = std::env::var("MALLOC_ARENA_MAX").unwrap_or_else(|_| "2".into());
    assert!(
        environment
            .iter()
            .any(|v| *v == format!("MALLOC_ARENA_MAX={expected}")),
        "{environment:?}"
    );
    let health = reqwest::get(daemon.url("/healthz")).await.expect("GET");
    assert!(health.status().is_success());
}
