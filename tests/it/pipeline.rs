//! The pipeline in-process: poll feeds from a loopback server, serve the outputs.

use crate::support::{
    Route, SERVED_WITHIN, TestConfig, TestServer, feeds_toml, fixture, serve_outputs,
};
use feed_rs::model::Feed;
use feedsift::app;
use feedsift::config::Config;

async fn get_feed(url: &str) -> Feed {
    let body = reqwest::get(url)
        .await
        .expect("GET")
        .bytes()
        .await
        .expect("body");
    feed_rs::parser::parse(&body[..]).expect("published feed parses")
}

async fn poll_all(config: &Config) -> feedsift::model::PollSummary {
    app::poll_once(config, app::Selection::All, &|_| {})
        .await
        .expect("poll")
}

#[tokio::test]
async fn same_story_from_rss_and_atom_is_published_once_with_both_sources() {
    let server = TestServer::start().await;
    server.serve("/vb.rss", Route::ok(fixture("openai_story.rss")));
    server.serve("/digest.atom", Route::ok(fixture("openai_story_copy.atom")));
    let config = TestConfig::write(&format!(
        "{}[[output]]\nname = \"openai\"\nfilter = \"#OpenAI\"\n",
        feeds_toml(&[
            ("venturebeat", &server.url("/vb.rss"), &["AI"]),
            ("digest", &server.url("/digest.atom"), &[])
        ])
    ));
    let config = config.load();
    let first = poll_all(&config).await;
    assert_eq!(
        (first.fetched, first.items.new, first.items.deduplicated),
        (2, 3, 1)
    );
    let again = poll_all(&config).await;
    assert_eq!(
        (
            again.items.new,
            again.items.updated,
            again.items.deduplicated
        ),
        (0, 0, 0)
    );

    let (base, _stop) = serve_outputs(&config).await;
    let feed = get_feed(&format!("{base}/feeds/openai.atom")).await;
    assert_eq!(feed.entries.len(), 1, "{:#?}", feed.entries);
    let entry = &feed.entries[0];
    assert_eq!(
        entry.title.as_ref().map(|t| t.content.as_str()),
        Some("Microsoft invests billions in OpenAI")
    );
    let via: Vec<_> = entry
        .links
        .iter()
        .filter(|l| l.rel.as_deref() == Some("via"))
        .map(|l| l.href.as_str())
        .collect();
    assert_eq!(via.len(), 2, "{via:?}");
    let tags: Vec<_> = entry.categories.iter().map(|c| c.term.as_str()).collect();
    assert!(
        tags.contains(&"OpenAI") && tags.contains(&"AI") && tags.contains(&"Microsoft"),
        "{tags:?}"
    );
    assert_eq!(
        entry
            .links
            .iter()
            .find(|l| l.rel.as_deref() == Some("alternate"))
            .map(|l| l.href.as_str()),
        Some("https://venturebeat.example/ai/microsoft-openai/")
    );
}

#[tokio::test]
async fn the_same_story_in_rss_atom_and_json_feed_is_one_item_with_three_sources() {
    let server = TestServer::start().await;
    server.serve("/vb.rss", Route::ok(fixture("openai_story.rss")));
    server.serve("/digest.atom", Route::ok(fixture("openai_story_copy.atom")));
    server.serve("/wire.json", Route::ok(fixture("openai_story.json")));
    let written = TestConfig::write(&format!(
        "{}[[output]]\nname = \"openai\"\nfilter = \"#OpenAI\"\n",
        feeds_toml(&[
            ("vb", &server.url("/vb.rss"), &[]),
            ("digest", &server.url("/digest.atom"), &[]),
            ("wire", &server.url("/wire.json"), &["Wire"]),
        ])
    ));
    let config = written.load();
    let summary = poll_all(&config).await;
    assert_eq!(
        (
            summary.fetched,
            summary.items.new,
            summary.items.deduplicated
        ),
        (3, 3, 2)
    );
    let store = app::open_store(&config).await.expect("store");
    let expr = feedsift::filter::parse("#OpenAI").expect("filter");
    let items = store.items_matching(Some(&expr), 10).expect("query");
    assert_eq!(items.len(), 1);
    let sources: Vec<_> = items[0]
        .sources
        .iter()
        .map(|s| s.feed_name.as_str())
        .collect();
    assert_eq!(sources.len(), 3, "{sources:?}");
    assert!(
        items[0].tags.contains(&"Wire".to_string())
            && items[0]
                .tags
                .contains(&"Artificial Intelligence".to_string())
    );
    let links: Vec<_> = items[0]
        .sources
        .iter()
        .filter_map(|s| s.link.as_deref())
        .collect();
    assert!(
        links
            .iter()
            .all(|l| *l == "https://venturebeat.example/ai/microsoft-openai/"),
        "{links:?}"
    );
}

#[tokio::test]
async fn changed_content_under_the_same_guid_is_updated_in_place() {
    let server = TestServer::start().await;
    let v1 = String::from_utf8(fixture("openai_story.rss")).expect("utf-8");
    server.serve("/vb.rss", Route::ok(v1.clone()));
    let written = TestConfig::write(&format!(
        "{}[[output]]\nname = \"all\"\n",
        feeds_toml(&[("vb", &server.url("/vb.rss"), &[])])
    ));
    let config = written.load();
    poll_all(&config).await;
    let (base, _stop) = serve_outputs(&config).await;
    let before = get_feed(&format!("{base}/feeds/all.atom")).await;

    server.serve(
        "/vb.rss",
        Route::ok(v1.replace("multibillion dollar", "ten-billion dollar")),
    );
    let summary = poll_all(&config).await;
    assert_eq!((summary.items.new, summary.items.updated), (0, 1));
    // The poll wrote through a store of its own, as `feedsift poll` beside the daemon does:
    // the server serves such changes within 100 ms (README), not at once.
    tokio::time::sleep(SERVED_WITHIN).await;
    let after = get_feed(&format!("{base}/feeds/all.atom")).await;

    assert_eq!(after.entries.len(), 2);
    let find = |feed: &Feed| {
        feed.entries
            .iter()
            .find(|e| {
                e.title
                    .as_ref()
                    .is_some_and(|t| t.content.contains("Microsoft"))
            })
            .cloned()
            .expect("the story")
    };
    let (old, new) = (find(&before), find(&after));
    assert_eq!(old.id, new.id);
    assert!(
        new.updated > old.updated,
        "{:?} !> {:?}",
        new.updated,
        old.updated
    );
    let body = new.content.and_then(|c| c.body).unwrap_or_default();
    assert!(body.contains("ten-billion"), "{body}");
}

#[tokio::test]
async fn failing_feeds_are_recorded_and_do_not_stop_the_others() {
    let server = TestServer::start().await;
    server.serve("/good.rss", Route::ok(fixture("openai_story.rss")));
    server.serve("/broken", Route::status(500));
    server.serve(
        "/page.html",
        Route::ok("<!doctype html><html><body>Not a feed</body></html>"),
    );
    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}/feed", listener.local_addr().expect("addr"))
    };
    let written = TestConfig::write(&feeds_toml(&[
        ("good", &server.url("/good.rss"), &[]),
        ("broken", &server.url("/broken"), &[]),
        ("html", &server.url("/page.html"), &[]),
        ("refused", &refused, &[]),
    ]));
    let config = written.load();
    let summary = poll_all(&config).await;
    assert_eq!(
        (summary.fetched, summary.failed, summary.items.new),
        (1, 3, 2)
    );

    let store = app::open_store(&config).await.expect("store");
    let health = store.call(|s| s.feed_health()).await.expect("health");
    let reason = |name: &str| {
        let feed = health.iter().find(|h| h.name == name).expect("feed row");
        assert_eq!(
            feed.consecutive_failures,
            u32::from(name != "good"),
            "{name}"
        );
        feed.last_error.clone().unwrap_or_default()
    };
    assert_eq!(reason("good"), "");
    assert!(
        reason("broken").contains("HTTP 500"),
        "{}",
        reason("broken")
    );
    assert!(reason("html").contains("not a feed"), "{}", reason("html"));
    assert!(
        reason("refused").contains("cannot connect"),
        "{}",
        reason("refused")
    );
}

#[tokio::test]
async fn a_second_poll_is_conditional_and_a_304_stores_nothing() {
    let server = TestServer::start().await;
    server.serve(
        "/vb.rss",
        Route::ok(fixture("openai_story.rss")).with_etag("\"abc\""),
    );
    let written = TestConfig::write(&feeds_toml(&[("vb", &server.url("/vb.rss"), &[])]));
    let config = written.load();
    assert_eq!(poll_all(&config).await.fetched, 1);
    let second = poll_all(&config).await;
    assert_eq!((second.fetched, second.not_modified), (0, 1));
    let requests = server.requests("/vb.rss");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].get("if-none-match"), None);
    assert_eq!(
        requests[1].get("if-none-match").map(|v| v.as_bytes()),
        Some(&b"\"abc\""[..])
    );
    let agent = requests[0]
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(agent.starts_with("feedsift/"), "{agent}");
}

#[tokio::test]
async fn bodies_over_max_body_are_refused() {
    let server = TestServer::start().await;
    let mut big = b"<rss version=\"2.0\"><channel><title>x</title>".to_vec();
    big.resize(300 * 1024, b' ');
    server.serve("/big.rss", Route::ok(big));
    let written = TestConfig::write(&format!(
        "[fetch]\nmax_body = \"256KiB\"\n\n{}",
        feeds_toml(&[("big", &server.url("/big.rss"), &[])])
    ));
    let config = written.load();
    assert_eq!(poll_all(&config).await.failed, 1);
    let store = app::open_store(&config).await.expect("store");
    let health = store.call(|s| s.feed_health()).await.expect("health");
    let error = health[0].last_error.clone().unwrap_or_default();
    assert!(error.contains("larger than 262144"), "{error}");
}

#[tokio::test]
async fn file_urls_are_polled_like_any_feed() {
    let dir = tempfile::tempdir().expect("dir");
    let feed = dir.path().join("local.atom");
    std::fs::write(&feed, fixture("openai_story_copy.atom")).expect("write");
    let url = url::Url::from_file_path(&feed).expect("file url");
    let written = TestConfig::write(&feeds_toml(&[("local", url.as_str(), &[])]));
    let summary = poll_all(&written.load()).await;
    assert_eq!((summary.fetched, summary.items.new), (1, 2));
}

#[tokio::test]
async fn health_and_unknown_outputs_answer_as_specified() {
    let written = TestConfig::write("[[output]]\nname = \"all\"\n");
    let (base, _stop) = serve_outputs(&written.load()).await;
    let health = reqwest::get(format!("{base}/healthz")).await.expect("GET");
    assert_eq!(health.status(), 200);
    let body: serde_json::Value =
        serde_json::from_slice(&health.bytes().await.expect("body")).expect("json");
    assert_eq!(body["status"], "ok");
    assert_eq!(
        reqwest::get(format!("{base}/feeds/nope.atom"))
            .await
            .expect("GET")
            .status(),
        404
    );
    let empty = reqwest::get(format!("{base}/feeds/all.atom"))
        .await
        .expect("GET");
    assert_eq!(empty.status(), 200);
    assert!(
        empty.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("application/atom+xml")
    );
}

#[tokio::test]
async fn old_items_are_pruned_and_stay_out_when_their_feed_still_carries_them() {
    let server = TestServer::start().await;
    server.serve("/vb.rss", Route::ok(fixture("openai_story.rss")));
    let written = TestConfig::write(&format!(
        "[storage]\nretention = \"1s\"\n\n{}",
        feeds_toml(&[("vb", &server.url("/vb.rss"), &[])])
    ));
    let config = written.load();
    assert_eq!(poll_all(&config).await.items.new, 2);
    let store = app::open_store(&config).await.expect("store");
    let retention = app::retention(&config);
    // Retention counts from when an item was first seen: prune as of two seconds later.
    let later = chrono::Utc::now() + chrono::Duration::seconds(2);
    let cancel = tokio_util::sync::CancellationToken::new();
    let pruned = feedsift::retention::prune_all(&store, retention, later, &cancel)
        .await
        .expect("prune");
    assert_eq!(pruned.items, 2);
    let again = poll_all(&config).await;
    assert_eq!((again.items.new, again.items.pruned), (0, 2));
    assert_eq!(store.call(|s| s.item_count()).await.expect("count"), 0);
}
