//! Tags and the filter language over real stored items: a table of expressions and the
//! items each must return, tag feeds and searches over HTTP, and `feedsift query`.

use crate::support::{
    Route, TestConfig, TestServer, feeds_toml, fixture, run_feedsift, serve_outputs,
};
use feedsift::app;
use feedsift::config::Config;

/// The tag-case fixture polled into a fresh database; the feed itself is tagged `feedtag`.
async fn tagged_store(server: &TestServer) -> (TestConfig, Config) {
    server.serve("/tags.rss", Route::ok(fixture("tag_cases.rss")));
    let written = TestConfig::write(&format!(
        "[server]\nbase_url = \"http://feeds.example/\"\n\n{}[[output]]\nname = \"precedence\"\nfilter = \"#a or #b and not #c\"\n",
        feeds_toml(&[("cases", &server.url("/tags.rss"), &["FeedTag"])])
    ));
    let config = written.load();
    let summary = app::poll_once(&config, app::Selection::All, &|_| {})
        .await
        .expect("poll");
    assert_eq!(summary.items.new, 8);
    (written, config)
}

#[tokio::test]
async fn expressions_return_exactly_their_items() {
    let server = TestServer::start().await;
    let (_written, config) = tagged_store(&server).await;
    let store = app::open_store(&config).await.expect("store");
    let table: &[(&str, &[&str])] = &[
        ("#a", &["A only", "A by category, C by hashtag"]),
        ("#A", &["A only", "A by category, C by hashtag"]),
        (
            "#a or #b and not #c",
            &["A only", "B only", "A by category, C by hashtag"],
        ),
        ("(#a or #b) and not #c", &["A only", "B only"]),
        ("#b #c", &["B and C"]),
        ("#b -#c", &["B only"]),
        (
            "#OpenAI",
            &["Spelled as a category with a space", "Mastodon markup"],
        ),
        (
            "#open-ai",
            &["Spelled as a category with a space", "Mastodon markup"],
        ),
        ("#人工智能", &["Unicode hashtags"]),
        ("#café", &["Unicode hashtags"]),
        ("#CAFÉ", &["Unicode hashtags"]),
        ("#top", &[]),
        ("#anchor", &[]),
        ("#8217", &[]),
        ("#123", &[]),
        ("#ff0000", &[]),
        ("#00ff00", &[]),
        (
            "#feedtag",
            &[
                "A only",
                "B only",
                "B and C",
                "A by category, C by hashtag",
                "Spelled as a category with a space",
                "Mastodon markup",
                "Unicode hashtags",
                "Not hashtags",
            ],
        ),
        ("feed:cases #c", &["B and C", "A by category, C by hashtag"]),
        ("feed:other", &[]),
        (
            "\"language model\"",
            &["Spelled as a category with a space"],
        ),
        (
            "\"LANGUAGE   model\"",
            &["Spelled as a category with a space"],
        ),
        ("title:\"only\"", &["A only", "B only"]),
        ("title:\"language\"", &[]),
        ("\"only\" -title:\"only\"", &["A by category, C by hashtag"]),
    ];
    for (expr, expected) in table {
        let parsed = feedsift::filter::parse(expr).expect(expr);
        let items = store.items_matching(Some(&parsed), 50).expect("query");
        let titles: Vec<&str> = items.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, *expected, "{expr}");
    }
}

fn entry_titles(body: &[u8]) -> Vec<String> {
    let feed = feed_rs::parser::parse(body).expect("valid feed");
    feed.entries
        .into_iter()
        .filter_map(|e| e.title.map(|t| t.content))
        .collect()
}

#[tokio::test]
async fn tag_and_search_documents_are_served_in_every_format() {
    let server = TestServer::start().await;
    let (_written, config) = tagged_store(&server).await;
    let (base, _stop) = serve_outputs(&config).await;
    for ext in ["atom", "rss", "json"] {
        // A tag is named in the path however people spell it.
        for spelling in ["OpenAI", "Open%20AI", "open-ai", "%23openai"] {
            let tagged = reqwest::get(format!("{base}/tags/{spelling}.{ext}"))
                .await
                .expect("GET");
            assert_eq!(tagged.status(), 200, "{spelling}.{ext}");
            let titles = entry_titles(&tagged.bytes().await.expect("body"));
            assert_eq!(
                titles,
                ["Spelled as a category with a space", "Mastodon markup"],
                "{spelling}.{ext}"
            );
        }

        let search = reqwest::get(format!("{base}/search.{ext}?q=%23b%20-%23c&limit=5"))
            .await
            .expect("GET");
        assert_eq!(search.status(), 200, "{ext}");
        assert_eq!(
            entry_titles(&search.bytes().await.expect("body")),
            ["B only"],
            "{ext}"
        );
    }
    let output = reqwest::get(format!("{base}/feeds/precedence.rss"))
        .await
        .expect("GET");
    assert_eq!(entry_titles(&output.bytes().await.expect("body")).len(), 3);
}

#[tokio::test]
async fn a_bad_search_is_a_400_that_points_at_the_error() {
    let server = TestServer::start().await;
    let (_written, config) = tagged_store(&server).await;
    let (base, _stop) = serve_outputs(&config).await;
    let response = reqwest::get(format!("{base}/search.atom?q=%23a%20and%20(%23b"))
        .await
        .expect("GET");
    assert_eq!(response.status(), 400);
    let body = response.text().await.expect("text");
    assert!(
        body.contains("never closed") && body.contains("#a and (#b"),
        "{body}"
    );
    let empty = reqwest::get(format!("{base}/search.atom"))
        .await
        .expect("GET");
    assert_eq!(empty.status(), 400);
}

#[tokio::test]
async fn the_query_command_lists_explains_and_refuses_bad_expressions() {
    let server = TestServer::start().await;
    let (written, _config) = tagged_store(&server).await;
    let ran = run_feedsift("query", &written.path, &["#b or #c", "--explain"]).await;
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(
        ran.stdout.contains("B and C") && ran.stdout.contains("#b ✓  #c ✓"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("#b ✗  #c ✓"), "{}", ran.stdout);

    let bad = run_feedsift("query", &written.path, &["#b or"]).await;
    assert_eq!(bad.code, Some(2));
    assert!(
        bad.stderr.contains("column 6") && bad.stderr.contains("#b or"),
        "{}",
        bad.stderr
    );
}

#[tokio::test]
async fn explain_shows_sources_tag_origins_and_output_verdicts() {
    let server = TestServer::start().await;
    let (written, _config) = tagged_store(&server).await;
    let by_guid = run_feedsift("explain", &written.path, &["bc"]).await;
    assert_eq!(
        by_guid.code,
        Some(0),
        "the source's guid names the item too"
    );
    let missing = run_feedsift("explain", &written.path, &["no-such-guid"]).await;
    assert_eq!(missing.code, Some(2), "{}", missing.stderr);

    let store = app::open_store(&written.load()).await.expect("store");
    let all = store.items_matching(None, 50).expect("items");
    let item = all.iter().find(|i| i.title == "B and C").expect("B and C");
    let ran = run_feedsift("explain", &written.path, &[&item.entry_id]).await;
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(ran.stdout, by_guid.stdout, "the same item by either name");
    for expected in [
        "by g:bc",
        "FeedTag              feed tag, from feed cases",
        "b                    hashtag, from feed cases",
        "out precedence           filter #a or #b and not #c: #a ✗  #b ✓  #c ✓",
    ] {
        assert!(
            ran.stdout.contains(expected),
            "missing {expected:?} in\n{}",
            ran.stdout
        );
    }
}
