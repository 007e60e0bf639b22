//! The daemon as a service: config reload on SIGHUP, a clean database after stops.

use std::time::Duration;

use crate::support::{
    ConfigBuilder, Daemon, InProcess, Route, TestConfig, TestServer, feeds_toml, fixture, get_text,
};

async fn status_code(url: &str) -> u16 {
    reqwest::get(url)
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// Waits up to 10 s for `url` to answer `want`.
async fn wait_for_status(url: &str, want: u16) {
    for _ in 0..200 {
        if status_code(url).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} never answered {want}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_feeds_and_outputs_and_keeps_the_old_config_when_the_new_one_is_bad() {
    let server = TestServer::start().await;
    server.serve("/vb.rss", Route::ok(fixture("openai_story.rss")));
    server.serve("/digest.atom", Route::ok(fixture("openai_story_copy.atom")));
    let head = ConfigBuilder::new().text();
    let config = ConfigBuilder::new()
        .feeds(&[("vb", &server.url("/vb.rss"), &[])])
        .tables("[[output]]\nname = \"all\"\n")
        .write();
    let daemon = Daemon::start(&config.path).await;
    daemon.wait_for_log("feed=\"vb\" status=\"fetched\"").await;
    assert_eq!(status_code(&daemon.url("/feeds/hardware.atom")).await, 404);

    std::fs::write(
        &config.path,
        format!(
            "{head}{}[[output]]\nname = \"all\"\n[[output]]\nname = \"hardware\"\nfilter = \"#Hardware\"\n",
            feeds_toml(&[("digest", &server.url("/digest.atom"), &[])])
        ),
    )
    .expect("rewrite config");
    daemon.signal("HUP").await;
    daemon.wait_for_log("config reloaded").await;
    wait_for_status(&daemon.url("/feeds/hardware.atom"), 200).await;
    daemon
        .wait_for_log("feed=\"digest\" status=\"fetched\"")
        .await;
    let status = reqwest::get(daemon.url("/"))
        .await
        .expect("GET /")
        .text()
        .await
        .expect("html");
    assert!(
        status.contains(">digest<") && !status.contains(">vb<"),
        "removed feeds leave the status page"
    );
    let body = reqwest::get(daemon.url("/feeds/hardware.atom"))
        .await
        .expect("GET")
        .text()
        .await
        .expect("body");
    assert!(
        body.contains("Chip prices fall"),
        "the new output shows the new feed's items"
    );

    std::fs::write(&config.path, "[server]\nlisten = 12\n").expect("break config");
    daemon.signal("HUP").await;
    let error = daemon.wait_for_log("config reload failed").await;
    assert!(error.contains("feedsift.toml:2"), "{error}");
    assert_eq!(
        status_code(&daemon.url("/feeds/hardware.atom")).await,
        200,
        "the old config stays in force"
    );
    assert_eq!(daemon.stop().await, Some(0));
}

/// The entries of the output `all` as the running daemon serves them.
async fn entries(daemon: &Daemon) -> usize {
    let body = get_text(&daemon.url("/feeds/all.json?limit=100")).await;
    let json: serde_json::Value = serde_json::from_str(&body).expect("JSON Feed");
    json["items"].as_array().map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_applies_fetch_and_storage_settings() {
    let server = TestServer::start().await;
    server.serve("/tags.rss", Route::ok(fixture("tag_cases.rss")));
    server.serve("/story.rss", Route::ok(fixture("openai_story.rss")));
    let config = |agent: &str, max_items: Option<&str>, feeds: &[(&str, &str, &[&str])]| {
        let builder = ConfigBuilder::new()
            .fetch("user_agent", &format!("\"{agent}\""))
            .feeds(feeds)
            .tables("[[output]]\nname = \"all\"\nlimit = 100\n");
        match max_items {
            Some(max) => builder.storage("max_items_per_feed", max).text(),
            None => builder.text(),
        }
    };
    let tags = ("tags", server.url("/tags.rss"));
    let file = TestConfig::write(&config("first/1", None, &[(tags.0, &tags.1, &[])]));
    let daemon = Daemon::start(&file.path).await;
    daemon
        .wait_for_log("feed=\"tags\" status=\"fetched\"")
        .await;
    assert_eq!(entries(&daemon).await, 8);
    assert_eq!(server.requests("/tags.rss")[0]["user-agent"], "first/1");

    let story = ("story", server.url("/story.rss"));
    std::fs::write(
        &file.path,
        config(
            "second/2",
            Some("2"),
            &[(tags.0, &tags.1, &[]), (story.0, &story.1, &[])],
        ),
    )
    .expect("rewrite config");
    daemon.signal("HUP").await;
    daemon.wait_for_log("config reloaded").await;
    daemon
        .wait_for_log("feed=\"story\" status=\"fetched\"")
        .await;
    assert_eq!(
        server.requests("/story.rss")[0]["user-agent"],
        "second/2",
        "polls after the reload use the new [fetch] settings"
    );
    daemon.wait_for_log("pruned").await;
    assert_eq!(
        entries(&daemon).await,
        2 + 2,
        "the new max_items_per_feed is applied at once, not at the next hourly pass"
    );
    assert_eq!(daemon.stop().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_moves_the_server_to_a_new_listen_address() {
    let config = TestConfig::write("[server]\nlisten = \"127.0.0.1:0\"\n");
    let daemon = Daemon::start(&config.path).await;
    let before = daemon.url("/healthz");
    assert_eq!(status_code(&before).await, 200);

    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = free.local_addr().expect("addr");
    drop(free);
    std::fs::write(&config.path, format!("[server]\nlisten = \"{addr}\"\n"))
        .expect("rewrite config");
    daemon.signal("HUP").await;
    daemon.wait_for_log("config reloaded").await;
    assert_eq!(status_code(&format!("http://{addr}/healthz")).await, 200);
    wait_for_status(&before, 0).await;

    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port in use");
    let busy = taken.local_addr().expect("addr");
    std::fs::write(&config.path, format!("[server]\nlisten = \"{busy}\"\n"))
        .expect("rewrite config");
    daemon.signal("HUP").await;
    let error = daemon.wait_for_log("cannot listen there").await;
    assert!(error.contains(&busy.to_string()), "{error}");
    assert_eq!(
        status_code(&format!("http://{addr}/healthz")).await,
        200,
        "a listen address that cannot be bound leaves the server where it was"
    );
    assert_eq!(daemon.stop().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_that_cannot_be_recorded_holds_its_feed_back_and_shows_in_health() {
    let server = TestServer::start().await;
    let route = Route::ok(fixture("openai_story.rss")).with_delay(Duration::from_secs(2));
    server.serve("/slow.rss", route);
    let config = ConfigBuilder::new()
        .feeds(&[("slow", &server.url("/slow.rss"), &[])])
        .write();
    let daemon = InProcess::start(&config.path).await;
    while server.requests("/slow.rss").is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // While the feed is fetched, another process takes the database's write lock, as a backup
    // tool might; a full disk or a read-only remount fail the write the same way.
    let lock = rusqlite::Connection::open(config.path.with_file_name("feedsift.db")).expect("open");
    lock.execute_batch("BEGIN IMMEDIATE").expect("write lock");
    let metrics = daemon
        .wait_for_metric("feedsift_polls_unrecorded_total 1")
        .await;
    // That it is not fetched again every tick meanwhile is shown on a paused clock by
    // polling::the_scheduler_holds_back_a_feed_whose_polls_cannot_be_recorded.
    let health = reqwest::get(daemon.url("/healthz")).await.expect("GET");
    assert_eq!(health.status().as_u16(), 503);
    let body = health.text().await.expect("body");
    assert!(body.contains("polls cannot be recorded"), "{body}");
    assert!(
        metrics.contains("feedsift_polls_unrecorded_total 1\n"),
        "{metrics}"
    );
    drop(lock);
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_during_polls_leaves_a_database_that_opens_whole() {
    let server = TestServer::start().await;
    let mut feeds = Vec::new();
    for n in 0..8 {
        let path = format!("/slow{n}.rss");
        server.serve(
            &path,
            Route::ok(fixture("openai_story.rss")).with_delay(Duration::from_millis(100 * n)),
        );
        feeds.push((format!("slow{n}"), server.url(&path)));
    }
    let tables: Vec<(&str, &str, &[&str])> = feeds
        .iter()
        .map(|(n, u)| (n.as_str(), u.as_str(), &[][..]))
        .collect();
    let config = ConfigBuilder::new().feeds(&tables).write();
    let daemon = Daemon::start(&config.path).await;
    daemon.wait_for_log("status=\"fetched\"").await;
    assert_eq!(daemon.stop().await, Some(0));

    let db = config.path.with_file_name("feedsift.db");
    let conn = rusqlite::Connection::open(&db).expect("database opens");
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(integrity, "ok");
    let polled: i64 = conn
        .query_row(
            "SELECT count(*) FROM feeds WHERE last_status = 'fetched'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    let sources: i64 = conn
        .query_row("SELECT count(*) FROM sources", [], |r| r.get(0))
        .expect("count");
    assert_eq!(
        sources,
        polled * 2,
        "every recorded poll has all of its items, no poll has part of them"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_counters_move_after_a_poll() {
    let server = TestServer::start().await;
    server.serve("/vb.rss", Route::ok(fixture("openai_story.rss")));
    let config = ConfigBuilder::new()
        .feeds(&[("vb", &server.url("/vb.rss"), &[])])
        .tables("[[output]]\nname = \"all\"\n")
        .write();
    let daemon = InProcess::start(&config.path).await;
    let before = daemon
        .wait_for_metric("feedsift_polls_total{outcome=\"fetched\"} ")
        .await;
    assert!(
        before.contains("feedsift_polls_total{outcome=\"fetched\"} "),
        "the counter exists from the start:\n{before}"
    );
    daemon
        .wait_for_metric("feedsift_polls_total{outcome=\"fetched\"} 1")
        .await;
    assert_eq!(status_code(&daemon.url("/feeds/all.atom")).await, 200);
    assert_eq!(status_code(&daemon.url("/feeds/missing.atom")).await, 404);
    let text = reqwest::get(daemon.url("/metrics"))
        .await
        .expect("GET")
        .text()
        .await
        .expect("text");
    for line in [
        "feedsift_polls_total{outcome=\"fetched\"} 1",
        "feedsift_items_total{kind=\"new\"} 2",
        "feedsift_fetch_duration_seconds_count 1",
        "feedsift_http_responses_total{status=\"404\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    let fetched_bytes = text
        .lines()
        .find_map(|l| l.strip_prefix("feedsift_fetched_bytes_total "))
        .expect("bytes");
    assert_eq!(
        fetched_bytes.parse::<usize>().expect("number"),
        fixture("openai_story.rss").len()
    );
    crate::support::assert_prometheus_text(&text);
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_path_changed_and_changed_back_is_no_change() {
    let config = |path: &str| {
        ConfigBuilder::new()
            .storage("path", &format!("\"{path}\""))
            .text()
    };
    let file = TestConfig::write(&config("first.db"));
    let daemon = Daemon::start(&file.path).await;
    std::fs::write(&file.path, config("second.db")).expect("rewrite config");
    daemon.signal("HUP").await;
    daemon
        .wait_for_log("takes effect at the next restart")
        .await;
    std::fs::write(&file.path, config("first.db")).expect("rewrite config");
    daemon.signal("HUP").await;
    daemon
        .wait_for_log("the database path is back to the one in use")
        .await;
    assert_eq!(daemon.count_logs("takes effect at the next restart"), 1);
    assert_eq!(daemon.stop().await, Some(0));
}
