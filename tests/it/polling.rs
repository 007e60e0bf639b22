//! Polite polling against a loopback server: validators, hints, backoff, redirects, 410,
//! time and size limits, and the per-host limit.

use std::io::Write as _;
use std::time::Duration;

use chrono::Utc;

use crate::support::{Route, TestConfig, TestServer, fixture};
use feedsift::app;
use feedsift::model::FeedHealth;

/// A one-feed config with `[fetch]` settings; fast per-host spacing unless given.
fn config(fetch: &str, url: &str) -> TestConfig {
    let spacing = if fetch.contains("per_host_delay") {
        ""
    } else {
        "per_host_delay = \"1ms\"\n"
    };
    TestConfig::write(&format!(
        "[fetch]\n{spacing}{fetch}\n[[feed]]\nname = \"f\"\nurl = \"{url}\"\n"
    ))
}

/// Polls every feed once and returns the health row of feed `f`.
async fn poll(written: &TestConfig) -> FeedHealth {
    let config = written.load();
    app::poll_once(&config, app::Selection::All, &|_| {})
        .await
        .expect("poll");
    let store = app::open_store(&config).await.expect("store");
    let health = store.call(|s| s.feed_health()).await.expect("health");
    health.into_iter().find(|h| h.name == "f").expect("feed f")
}

/// Seconds from now until the feed's next poll.
fn due_in(h: &FeedHealth) -> i64 {
    (h.next_poll - Utc::now()).num_seconds()
}

/// `expected` seconds plus at most a quarter of jitter (and a little slack for the test).
fn assert_due_in(h: &FeedHealth, expected: i64) {
    let due = due_in(h);
    assert!(
        due >= expected - 5 && due <= expected + expected / 4 + 5,
        "due in {due}s, expected about {expected}s"
    );
}

#[tokio::test]
async fn both_validators_are_sent_back_and_a_304_is_not_modified() {
    let server = TestServer::start().await;
    let date = "Mon, 02 Jan 2023 10:00:00 GMT";
    server.serve(
        "/etag",
        Route::ok(fixture("openai_story.rss"))
            .with_etag("\"v1\"")
            .with_last_modified(date),
    );
    server.serve(
        "/date",
        Route::ok(fixture("openai_story.rss")).with_last_modified(date),
    );
    for path in ["/etag", "/date"] {
        let written = config("", &server.url(path));
        assert_eq!(
            poll(&written)
                .await
                .last_status
                .map(feedsift::model::PollStatus::as_str),
            Some("fetched")
        );
        let second = poll(&written).await;
        assert_eq!(
            second.last_status.map(feedsift::model::PollStatus::as_str),
            Some("not_modified"),
            "{path}"
        );
        let sent = &server.requests(path)[1];
        assert_eq!(
            sent.get("if-modified-since").and_then(|v| v.to_str().ok()),
            Some(date),
            "{path}"
        );
        if path == "/etag" {
            assert_eq!(
                sent.get("if-none-match").and_then(|v| v.to_str().ok()),
                Some("\"v1\"")
            );
        }
        let encodings = sent
            .get("accept-encoding")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(
            encodings.contains("gzip") && encodings.contains("br"),
            "{encodings}"
        );
    }
}

#[tokio::test]
async fn cache_control_ttl_and_syndication_hints_are_honoured_within_bounds() {
    let server = TestServer::start().await;
    let rss = String::from_utf8(fixture("openai_story.rss")).expect("utf-8");
    server.serve(
        "/max-age",
        Route::ok(rss.clone()).with_header("cache-control", "max-age=7200"),
    );
    server.serve(
        "/short",
        Route::ok(rss.clone()).with_header("cache-control", "max-age=10"),
    );
    server.serve(
        "/ttl",
        Route::ok(rss.replace(
            "<description>AI news</description>",
            "<description>AI news</description><ttl>14400</ttl>",
        )),
    );
    let sy = rss
        .replace("<rss version=\"2.0\">", "<rss version=\"2.0\" xmlns:sy=\"http://purl.org/rss/1.0/modules/syndication/\">")
        .replace("<description>AI news</description>", "<description>AI news</description><sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>1</sy:updateFrequency>");
    server.serve("/sy", Route::ok(sy));
    let fetch = "interval = \"30m\"\nmin_interval = \"5m\"\nmax_interval = \"6h\"\n";
    assert_due_in(&poll(&config(fetch, &server.url("/max-age"))).await, 7200);
    assert_due_in(&poll(&config(fetch, &server.url("/short"))).await, 1800);
    assert_due_in(&poll(&config(fetch, &server.url("/ttl"))).await, 6 * 3600);
    assert_due_in(&poll(&config(fetch, &server.url("/sy"))).await, 3600);
}

#[tokio::test]
async fn retry_after_on_429_sets_the_next_poll() {
    let server = TestServer::start().await;
    server.serve(
        "/busy",
        Route::status(429).with_header("retry-after", "5400"),
    );
    let h = poll(&config("interval = \"30m\"\n", &server.url("/busy"))).await;
    assert_eq!(
        (
            h.last_status.map(feedsift::model::PollStatus::as_str),
            h.consecutive_failures
        ),
        (Some("failed"), 1)
    );
    assert!(h.last_error.as_deref().unwrap_or("").contains("429"));
    assert_due_in(&h, 5400);
}

#[tokio::test]
async fn failures_back_off_and_a_success_resets_the_schedule() {
    let server = TestServer::start().await;
    server.serve("/flaky", Route::status(500));
    let written = config(
        "interval = \"10m\"\nmin_interval = \"1m\"\n",
        &server.url("/flaky"),
    );
    for (failures, wait) in [(1, 600), (2, 1200), (3, 2400), (4, 4800)] {
        let h = poll(&written).await;
        assert_eq!(h.consecutive_failures, failures);
        assert_due_in(&h, wait);
    }
    server.serve("/flaky", Route::ok(fixture("openai_story.rss")));
    let h = poll(&written).await;
    assert_eq!(
        (
            h.consecutive_failures,
            h.last_status.map(feedsift::model::PollStatus::as_str)
        ),
        (0, Some("fetched"))
    );
    assert_due_in(&h, 600);
}

#[tokio::test]
async fn permanent_redirects_are_recorded_and_temporary_ones_are_not() {
    let server = TestServer::start().await;
    let elsewhere = TestServer::start_on("127.0.0.2").await;
    server.serve("/new", Route::ok(fixture("openai_story.rss")));
    server.serve("/moved", Route::redirect(301, "/new"));
    server.serve("/visiting", Route::redirect(302, "/new"));
    server.serve("/far", Route::redirect(308, &elsewhere.url("/feed")));
    elsewhere.serve("/feed", Route::ok(fixture("openai_story.rss")));

    let same_host = config("", &server.url("/moved"));
    let h = poll(&same_host).await;
    assert_eq!(
        (
            h.last_status.map(feedsift::model::PollStatus::as_str),
            h.effective_url.clone()
        ),
        (Some("fetched"), Some(server.url("/new")))
    );
    poll(&same_host).await;
    assert_eq!(
        server.requests("/moved").len(),
        1,
        "the next poll goes to the new URL directly"
    );

    let temporary = config("", &server.url("/visiting"));
    let h = poll(&temporary).await;
    assert_eq!(
        (
            h.last_status.map(feedsift::model::PollStatus::as_str),
            h.effective_url
        ),
        (Some("fetched"), None)
    );

    let cross_host = config("", &server.url("/far"));
    for _ in 0..2 {
        assert_eq!(
            poll(&cross_host).await.effective_url,
            None,
            "not trusted after one or two polls"
        );
    }
    assert_eq!(
        poll(&cross_host).await.effective_url,
        Some(elsewhere.url("/feed"))
    );
    let out = crate::support::run_feedsift("feeds", &cross_host.path, &[]).await;
    assert!(
        out.stdout.contains("moved to") && out.stdout.contains(&elsewhere.url("/feed")),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn gone_feeds_stop_being_polled_and_redirect_loops_fail() {
    let server = TestServer::start().await;
    server.serve("/gone", Route::status(410));
    server.serve("/a", Route::redirect(307, "/b"));
    server.serve("/b", Route::redirect(307, "/a"));
    let gone = config("", &server.url("/gone"));
    let h = poll(&gone).await;
    assert!(h.gone && h.last_status.map(feedsift::model::PollStatus::as_str) == Some("gone"));
    let store = app::open_store(&gone.load()).await.expect("store");
    let due = store
        .call(|s| s.due_feeds(Utc::now() + chrono::Duration::days(3650)))
        .await
        .expect("due");
    assert!(due.is_empty(), "a gone feed is never due: {due:?}");
    drop(store);
    let table = crate::support::run_feedsift("feeds", &gone.path, &[]).await;
    let row = table.stdout.lines().nth(1).unwrap_or_default();
    assert!(
        row.contains("gone") && row.contains("not polled"),
        "{}",
        table.stdout
    );
    assert!(!row.contains(" in "), "no next poll time: {row}");

    let looping = poll(&config("", &server.url("/a"))).await;
    assert!(
        looping
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("redirect loop"),
        "{:?}",
        looping.last_error
    );
}

#[tokio::test]
async fn a_drip_fed_body_slower_than_the_timeout_fails_in_time() {
    let server = TestServer::start().await;
    server.serve(
        "/drip",
        Route::ok(fixture("openai_story.rss")).dripping(Duration::from_millis(50)),
    );
    let started = std::time::Instant::now();
    let h = poll(&config("timeout = \"1s\"\n", &server.url("/drip"))).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        h.last_error.as_deref().unwrap_or("").contains("timed out"),
        "{:?}",
        h.last_error
    );
}

#[tokio::test]
async fn a_gzip_bomb_stops_at_max_body() {
    let server = TestServer::start().await;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(&vec![b' '; 50 * 1024 * 1024])
        .expect("compress");
    let bomb = encoder.finish().expect("gzip");
    assert!(bomb.len() < 100 * 1024, "a small download");
    server.serve(
        "/bomb",
        Route::ok(bomb).with_header("content-encoding", "gzip"),
    );
    let h = poll(&config("max_body = \"1MiB\"\n", &server.url("/bomb"))).await;
    assert!(
        h.last_error
            .as_deref()
            .unwrap_or("")
            .contains("larger than 1048576"),
        "{:?}",
        h.last_error
    );
}

#[tokio::test]
async fn the_per_host_limit_is_never_exceeded() {
    let server = TestServer::start().await;
    let mut feeds = String::new();
    for n in 0..6 {
        server.serve(
            &format!("/slow{n}"),
            Route::ok(fixture("openai_story.rss")).with_delay(Duration::from_millis(300)),
        );
        feeds.push_str(&format!(
            "[[feed]]\nname = \"slow{n}\"\nurl = \"{}\"\n",
            server.url(&format!("/slow{n}"))
        ));
    }
    let written = TestConfig::write(&format!(
        "[fetch]\nconcurrency = 16\nper_host = 2\nper_host_delay = \"1ms\"\n\n{feeds}"
    ));
    let config = written.load();
    let summary = app::poll_once(&config, app::Selection::All, &|_| {})
        .await
        .expect("poll");
    assert_eq!(summary.fetched, 6);
    assert_eq!(server.max_in_flight(), 2, "two at a time, never more");
}

#[tokio::test]
async fn a_web_page_url_is_read_through_the_feed_it_links_and_said_so() {
    let server = TestServer::start().await;
    server.serve(
        "/blog/",
        Route::ok(
            "<!DOCTYPE html><html><head><title>Blog</title>\
             <link rel=\"alternate\" type=\"application/rss+xml\" href=\"/blog/feed.xml\">\
             </head><body>Welcome</body></html>",
        )
        .with_content_type("text/html; charset=utf-8"),
    );
    server.serve(
        "/blog/feed.xml",
        Route::ok(crate::support::fixture("openai_story.rss")),
    );
    server.serve(
        "/plain/",
        Route::ok("<!doctype html><html><head><title>No feed</title></head></html>")
            .with_content_type("text/html"),
    );
    let blog = config("", &server.url("/blog/"));
    let h = poll(&blog).await;
    assert_eq!(h.items, 2, "{h:?}");
    assert_eq!(h.effective_url, Some(server.url("/blog/feed.xml")));
    let feeds = crate::support::run_feedsift("feeds", &blog.path, &[]).await;
    assert!(
        feeds
            .stdout
            .contains("the URL is a web page; read the feed it links")
            && feeds.stdout.contains("moved to"),
        "{}",
        feeds.stdout
    );
    let checked = crate::support::run_feedsift("check", &blog.path, &[]).await;
    assert!(
        checked
            .stderr
            .contains(&format!("lives at {}", server.url("/blog/feed.xml"))),
        "{}",
        checked.stderr
    );
    // The next poll goes to the feed itself.
    poll(&blog).await;
    assert_eq!(server.requests("/blog/").len(), 1);

    let plain = poll(&config("", &server.url("/plain/"))).await;
    assert!(
        plain
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("a web page that links no feed"),
        "{:?}",
        plain.last_error
    );
}

/// The scheduler's loop on tokio's paused clock, over a real database: a feed whose polls
/// cannot be recorded is held back 1 min, doubling, instead of being fetched every tick.
#[tokio::test(start_paused = true)]
async fn the_scheduler_holds_back_a_feed_whose_polls_cannot_be_recorded() {
    use std::collections::HashSet;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

    let dir = tempfile::tempdir().expect("dir");
    let store = feedsift::store::Store::open(&dir.path().join("s.db")).expect("store");
    let spec = feedsift::store::FeedSpec {
        name: "f".into(),
        url: "https://f.example/feed".into(),
        tags: Vec::new(),
    };
    store.sync_feeds(&[spec]).expect("sync");
    let polls = Arc::new(AtomicUsize::new(0));
    let cancel = tokio_util::sync::CancellationToken::new();
    let counted = polls.clone();
    let scheduler = tokio::spawn(feedsift::schedule::run(
        store,
        || HashSet::from(["f".to_string()]),
        || 4,
        Arc::new(AtomicI64::new(0)),
        cancel.clone(),
        move |_name: String| {
            counted.fetch_add(1, Ordering::SeqCst);
            async { false }
        },
    ));
    // Ten minutes: polled at once, then held 1, 2 and 4 minutes (at about 0, 1, 3 and 7 min).
    tokio::time::sleep(std::time::Duration::from_secs(600)).await;
    cancel.cancel();
    scheduler.await.expect("scheduler ends");
    let polled = polls.load(Ordering::SeqCst);
    assert!((3..=5).contains(&polled), "{polled} polls in 10 minutes");
}
