//! Crash safety: `kill -9` at moments that hurt, during polls and during pruning, always
//! leaves a database that passes `PRAGMA integrity_check`, holds every committed poll and
//! loses no item without a tombstone; the restarted daemon resumes.

use std::time::Duration;

use crate::support::{
    ConfigBuilder, Daemon, Route, TestConfig, TestServer, feeds_toml, fixture, run_feedsift,
};

fn integrity(conn: &rusqlite::Connection) -> String {
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity check runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_poll_leaves_a_whole_database_and_the_restart_resumes() {
    let server = TestServer::start().await;
    let mut tables = String::new();
    for n in 0..12 {
        let path = format!("/f{n}.rss");
        let story = String::from_utf8(fixture("openai_story.rss"))
            .expect("utf-8")
            .replace("vb-100", &format!("f{n}-"));
        server.serve(
            &path,
            Route::ok(story).with_delay(Duration::from_millis(40 * n)),
        );
        tables.push_str(&format!(
            "[[feed]]\nname = \"f{n}\"\nurl = \"{}\"\n",
            server.url(&path)
        ));
    }
    let config = ConfigBuilder::new()
        .fetch("concurrency", "4")
        .tables(&tables)
        .write();
    let db = config.path.with_file_name("feedsift.db");
    for round in 0..3 {
        let daemon = Daemon::start(&config.path).await;
        tokio::time::sleep(Duration::from_millis(150 + 100 * round)).await;
        daemon.signal("KILL").await;
        let conn = rusqlite::Connection::open(&db).expect("database opens after kill -9");
        assert_eq!(integrity(&conn), "ok", "round {round}");
        let half_written: i64 = conn
            .query_row(
                "SELECT count(*) FROM feeds f WHERE f.last_status = 'fetched'
                 AND (SELECT count(*) FROM sources s WHERE s.feed_id = f.id) <> 2",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(
            half_written, 0,
            "round {round}: a recorded poll without all its items"
        );
    }
    let daemon = Daemon::start(&config.path).await;
    for _ in 0..100 {
        let conn = rusqlite::Connection::open(&db).expect("open");
        let done: i64 = conn
            .query_row(
                "SELECT count(*) FROM feeds WHERE last_status = 'fetched'",
                [],
                |r| r.get(0),
            )
            .expect("count");
        if done == 12 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let conn = rusqlite::Connection::open(&db).expect("open");
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect("count") };
    // The twelve feeds carry the same two stories: two items, each with twelve sources.
    assert_eq!(
        count("SELECT count(*) FROM items"),
        2,
        "each story once after the restarts"
    );
    assert_eq!(
        count("SELECT count(*) FROM sources"),
        24,
        "every feed's copy recorded"
    );
    assert_eq!(daemon.stop().await, Some(0));
    // A kill may land between a commit and the phrase index taking it in: each story is
    // still found by its words.
    for (phrase, title) in [
        (
            "\"multibillion dollar investment\"",
            "Microsoft invests billions in OpenAI",
        ),
        ("\"a model predicts rain\"", "Robots forecast the weather"),
    ] {
        let found = run_feedsift("query", &config.path, &[phrase, "--format", "json"]).await;
        assert_eq!(found.code, Some(0), "{}", found.stderr);
        let doc: serde_json::Value = serde_json::from_str(&found.stdout).expect("JSON Feed");
        assert_eq!(doc["items"][0]["title"], title, "{phrase}");
        assert_eq!(doc["items"].as_array().map(Vec::len), Some(1), "{phrase}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_pruning_loses_nothing_that_was_not_pruned_whole() {
    const ITEMS: usize = 3000;
    let server = TestServer::start().await;
    let items: String = (0..ITEMS)
        .map(|i| {
            format!(
                "<item><guid>p{i}</guid><title>Story {i} #tag{}</title><link>https://p.example/{i}</link>\
                 <description>Body of story {i}</description>\
                 <pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate></item>",
                i % 50
            )
        })
        .collect();
    server.serve(
        "/many.rss",
        Route::ok(format!(
            "<rss version=\"2.0\"><channel><title>many</title>{items}</channel></rss>"
        ))
        .with_etag("\"many\""),
    );
    let feeds = feeds_toml(&[("many", &server.url("/many.rss"), &["bulk"])]);
    let config = TestConfig::write(&format!(
        "[storage]\nmax_items_per_feed = {ITEMS}\n\n{feeds}"
    ));
    let polled = run_feedsift("poll", &config.path, &["--all"]).await;
    assert_eq!(polled.code, Some(0), "{}", polled.stderr);
    std::fs::write(
        &config.path,
        ConfigBuilder::new()
            .storage("max_items_per_feed", "10")
            .tables(&feeds)
            .text(),
    )
    .expect("rewrite config");

    let db = config.path.with_file_name("feedsift.db");
    let mut seen_midway = false;
    let mut before = ITEMS as i64;
    for (round, extra) in [0u64, 3, 7, 15].into_iter().enumerate() {
        let daemon = Daemon::start(&config.path).await;
        // Kill once this run has committed a batch of pruning, and a little after.
        for _ in 0..2000 {
            let conn = rusqlite::Connection::open(&db).expect("open");
            let now: i64 = conn
                .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
                .expect("count");
            if now < before {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(Duration::from_millis(extra)).await;
        daemon.signal("KILL").await;
        let conn = rusqlite::Connection::open(&db).expect("database opens after kill -9");
        assert_eq!(integrity(&conn), "ok", "round {round}");
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect(sql) };
        let items = count("SELECT count(*) FROM items");
        let tombstones = count("SELECT count(*) FROM pruned_hashes");
        assert_eq!(
            items + tombstones,
            ITEMS as i64,
            "round {round}: an item vanished without a tombstone"
        );
        assert_eq!(
            count(
                "SELECT count(*) FROM items i WHERE NOT EXISTS (SELECT 1 FROM sources s WHERE s.item_id = i.id)"
            ),
            0
        );
        assert_eq!(
            count(
                "SELECT count(*) FROM item_tags t WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.id = t.item_id)"
            ),
            0
        );
        assert_eq!(count("SELECT count(*) FROM pragma_foreign_key_check"), 0);
        rusqlite::Connection::open(config.path.with_file_name("feedsift.db-text"))
            .and_then(|index| {
                index.execute(
                    "INSERT INTO item_text (item_text) VALUES ('integrity-check')",
                    [],
                )
            })
            .expect("the phrase index is sound");
        seen_midway |= items > 10 && items < before;
        before = items;
    }
    assert!(seen_midway, "no kill landed while pruning was under way");

    let daemon = Daemon::start(&config.path).await;
    daemon.wait_for_log("pruned").await;
    let conn = rusqlite::Connection::open(&db).expect("open");
    let items: i64 = conn
        .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
        .expect("count");
    assert_eq!(items, 10, "the restarted daemon finishes pruning");
    assert_eq!(integrity(&conn), "ok");
    assert_eq!(daemon.stop().await, Some(0));
    // The phrase index, which the kills left behind the items, finds exactly those left.
    let mut kept: Vec<String> = conn
        .prepare("SELECT title FROM items")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("titles");
    let found = run_feedsift(
        "query",
        &config.path,
        &["\"body of story\"", "--limit", "100", "--format", "json"],
    )
    .await;
    assert_eq!(found.code, Some(0), "{}", found.stderr);
    let doc: serde_json::Value = serde_json::from_str(&found.stdout).expect("JSON Feed");
    let mut titles: Vec<String> = doc["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["title"].as_str().unwrap_or_default().to_string())
        .collect();
    kept.sort();
    titles.sort();
    assert_eq!(titles, kept);
}
