//! Whole articles for teaser feeds: loopback article pages with real-world clutter, and pages
//! that must give no article (404, not HTML, too large, too slow, a redirect to a private
//! address), end to end.

use std::time::Duration;

use feedsift::app;

use crate::support::*;

/// The story's paragraphs; only the first is in the feed.
fn paragraphs() -> Vec<String> {
    (1..=6)
        .map(|n| {
            format!(
                "Paragraph {n}: the laboratory said its new model answers questions in more languages, \
                 and partners will test it before a wider release later this year."
            )
        })
        .collect()
}

/// An article page as sites serve them: navigation, a cookie banner, ads, share buttons,
/// the story (with its hashtags at the end only), comments and related links.
fn article_page() -> String {
    let story: String = paragraphs().iter().map(|p| format!("<p>{p}</p>")).collect();
    format!(
        "<!DOCTYPE html><html><head><title>Model news | Example Tech</title></head><body>\
         <header><nav><a href=\"/\">Home</a> <a href=\"/ai\">AI</a> <a href=\"/about\">About us</a> \
         <a href=\"/subscribe\">Subscribe</a></nav></header>\
         <div id=\"cookie-consent\" class=\"banner\">We value your privacy. We and our partners use cookies. \
         <button>Accept all</button> <button>Reject</button></div>\
         <div class=\"ad\">ADVERTISEMENT: Buy the best laptops at unbeatable prices today</div>\
         <main><article><h1>New model answers in more languages</h1>\
         <div class=\"share\"><a href=\"/share/x\">Share on X</a> <a href=\"/share/fb\">Share on Facebook</a></div>\
         {story}<p>#Microsoft #OpenAI #VentureBeat</p></article>\
         <section id=\"comments\"><h2>Comments</h2><div class=\"comment\">First! Great read.</div></section>\
         <aside class=\"related\"><h3>Related stories</h3><ul><li><a href=\"/r1\">Chip makers report record sales</a></li>\
         <li><a href=\"/r2\">Ten gadgets for the holidays</a></li></ul></aside></main>\
         <footer>Copyright 2026 Example Tech. All rights reserved.</footer></body></html>"
    )
}

/// A feed of teasers: each item's description is one sentence, its link the article.
fn teaser_feed(url: &dyn Fn(&str) -> String, articles: &[(&str, &str)]) -> String {
    let items: String = articles
        .iter()
        .map(|(guid, path)| {
            format!(
                "<item><guid>{guid}</guid><title>Story {guid}</title><link>{}</link>\
                 <description>{}</description></item>",
                url(path),
                paragraphs()[0]
            )
        })
        .collect();
    format!("<rss version=\"2.0\"><channel><title>Teasers</title>{items}</channel></rss>")
}

#[tokio::test]
async fn articles_replace_teasers_and_bad_pages_keep_them() {
    let server = TestServer::start().await;
    server.serve(
        "/a/clutter",
        Route::ok(article_page()).with_content_type("text/html; charset=utf-8"),
    );
    // Each failing page on a site of its own: three failures in a row on one site would have
    // it left alone for an hour.
    let mut sites = std::collections::HashMap::new();
    for (n, path) in ["/a/missing", "/a/pdf", "/a/huge", "/a/slow", "/a/private"]
        .into_iter()
        .enumerate()
    {
        sites.insert(
            path,
            TestServer::start_on(&format!("127.0.0.{}", n + 2)).await,
        );
    }
    let site = |path: &str| sites.get(path).unwrap_or(&server);
    let url = |path: &str| site(path).url(path);
    site("/a/missing").serve("/a/missing", Route::status(404));
    site("/a/pdf").serve(
        "/a/pdf",
        Route::ok(b"%PDF-1.7 not a page".to_vec()).with_content_type("application/pdf"),
    );
    site("/a/huge").serve(
        "/a/huge",
        Route::ok(format!(
            "<html><body>{}</body></html>",
            "<p>x</p>".repeat(100_000)
        ))
        .with_content_type("text/html"),
    );
    site("/a/slow").serve(
        "/a/slow",
        Route::ok(article_page())
            .with_content_type("text/html")
            .with_delay(Duration::from_secs(5)),
    );
    site("/a/private").serve(
        "/a/private",
        Route::redirect(302, "http://192.168.77.1/article"),
    );
    let articles = [
        ("clutter", "/a/clutter"),
        ("missing", "/a/missing"),
        ("pdf", "/a/pdf"),
        ("huge", "/a/huge"),
        ("slow", "/a/slow"),
        ("private", "/a/private"),
    ];
    server.serve("/feed.rss", Route::ok(teaser_feed(&url, &articles)));
    let config = ConfigBuilder::new()
        .fetch("timeout", "\"2s\"")
        .fetch("max_body", "\"256KiB\"")
        .tables(&format!(
            "[[feed]]\nname = \"teasers\"\nurl = \"{}\"\nfull_text = true\n\n\
             [[output]]\nname = \"openai\"\nfilter = \"#OpenAI\"\n",
            server.url("/feed.rss")
        ))
        .write();
    app::poll_once(&config.load(), app::Selection::All, &|_| {})
        .await
        .expect("poll");

    // The article with its hashtags only at its end lands in the #OpenAI output, alone, with
    // its whole text and none of the page's clutter.
    let (base, _stop) = serve_outputs(&config.load()).await;
    let feed = get_text(&format!("{base}/feeds/openai.json")).await;
    let json: serde_json::Value = serde_json::from_str(&feed).expect("JSON Feed");
    let items = json["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{feed}");
    let content = items[0]["content_html"].as_str().expect("content");
    for paragraph in paragraphs() {
        assert!(
            content.contains(&paragraph),
            "missing {paragraph:?} in {content}"
        );
    }
    assert!(
        content.contains("#Microsoft #OpenAI #VentureBeat"),
        "{content}"
    );
    for clutter in [
        "cookies",
        "ADVERTISEMENT",
        "Share on Facebook",
        "First! Great read",
        "Chip makers report",
        "All rights reserved",
        "About us",
    ] {
        assert!(!content.contains(clutter), "{clutter:?} kept: {content}");
    }
    // The item keeps the identity the feed gave it.
    let store = app::open_store(&config.load()).await.expect("store");
    let all = store
        .call(|s| s.items_matching(None, 50))
        .await
        .expect("items");
    assert_eq!(all.len(), 6);
    let explained = run_feedsift("explain", &config.path, &[&server.url("/a/clutter")]).await;
    assert!(
        explained.stdout.contains("(fetched, 1 attempts)"),
        "{}",
        explained.stdout
    );
    assert!(explained.stdout.contains("kept"), "{}", explained.stdout);

    // Every other page leaves the teaser in place and says why on the item.
    for (path, why) in [
        ("/a/missing", "404"),
        ("/a/pdf", "not a web page (application/pdf)"),
        ("/a/huge", "larger than"),
        ("/a/slow", ""),
        ("/a/private", "private"),
    ] {
        let explained = run_feedsift("explain", &config.path, &[&url(path)]).await;
        assert_eq!(explained.code, Some(0), "{}", explained.stderr);
        assert!(
            explained.stdout.contains("article:"),
            "{}",
            explained.stdout
        );
        assert!(
            explained
                .stdout
                .to_lowercase()
                .contains(&why.to_lowercase()),
            "{path}: {why:?} not in\n{}",
            explained.stdout
        );
        let item = all
            .iter()
            .find(|i| i.link.as_deref() == Some(url(path).as_str()))
            .expect("the item");
        assert!(
            item.content
                .as_deref()
                .unwrap_or("")
                .contains("Paragraph 1")
                && !item
                    .content
                    .as_deref()
                    .unwrap_or("")
                    .contains("Paragraph 2"),
            "{path}: the teaser stays"
        );
    }
    // A page that may come back (too slow) is tried again later; one that cannot is not.
    let slow = run_feedsift("explain", &config.path, &[&url("/a/slow")]).await;
    assert!(
        slow.stdout.contains("(pending, 1 attempts)"),
        "{}",
        slow.stdout
    );
    let missing = run_feedsift("explain", &config.path, &[&url("/a/missing")]).await;
    assert!(
        missing.stdout.contains("(failed, 1 attempts)"),
        "{}",
        missing.stdout
    );
    // Each article was fetched once.
    assert_eq!(server.requests("/a/clutter").len(), 1);
    app::poll_once(&config.load(), app::Selection::All, &|_| {})
        .await
        .expect("poll again");
    assert_eq!(server.requests("/a/clutter").len(), 1, "fetched once");
}

#[tokio::test]
async fn polls_keep_their_schedule_while_articles_are_slow() {
    let server = TestServer::start().await;
    let articles: Vec<(String, String)> = (0..6)
        .map(|n| (format!("s{n}"), format!("/a/slow{n}")))
        .collect();
    for (_, path) in &articles {
        server.serve(
            path,
            Route::ok(article_page())
                .with_content_type("text/html")
                .with_delay(Duration::from_secs(8)),
        );
    }
    let refs: Vec<(&str, &str)> = articles
        .iter()
        .map(|(g, p)| (g.as_str(), p.as_str()))
        .collect();
    server.serve(
        "/feed.rss",
        Route::ok(teaser_feed(&|p: &str| server.url(p), &refs)),
    );
    let config = ConfigBuilder::new()
        .fetch("timeout", "\"20s\"")
        .fetch("interval", "\"1s\"")
        .fetch("min_interval", "\"1s\"")
        .tables(&format!(
            "[[feed]]\nname = \"teasers\"\nurl = \"{}\"\nfull_text = true\n",
            server.url("/feed.rss")
        ))
        .write();
    let daemon = InProcess::start(&config.path).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let polls = server.requests("/feed.rss").len();
    let fetched: usize = articles.iter().map(|(_, p)| server.requests(p).len()).sum();
    daemon.stop().await;
    assert!(
        polls >= 3,
        "the feed is polled every second or so while its articles hang: {polls} polls"
    );
    assert!(
        fetched <= 2,
        "at most two articles are fetched at a time: {fetched} requests"
    );
}

#[tokio::test]
async fn a_full_copy_elsewhere_joins_the_teaser_through_its_article() {
    let server = TestServer::start().await;
    server.serve(
        "/a/clutter",
        Route::ok(article_page()).with_content_type("text/html"),
    );
    server.serve(
        "/teasers.rss",
        Route::ok(teaser_feed(
            &|p: &str| server.url(p),
            &[("t1", "/a/clutter")],
        )),
    );
    let empty = "<rss version=\"2.0\"><channel><title>Wire</title></channel></rss>";
    server.serve("/wire.rss", Route::ok(empty));
    let config = ConfigBuilder::new()
        .tables(&format!(
            "[[feed]]\nname = \"teasers\"\nurl = \"{}\"\nfull_text = true\n\n\
             [[feed]]\nname = \"wire\"\nurl = \"{}\"\n",
            server.url("/teasers.rss"),
            server.url("/wire.rss")
        ))
        .write();
    app::poll_once(&config.load(), app::Selection::All, &|_| {})
        .await
        .expect("poll");
    // Later another site carries the whole story: the teaser alone shares too little with it,
    // the article all of it.
    let full: String = paragraphs()
        .iter()
        .map(|p| format!("&lt;p&gt;{p}&lt;/p&gt;"))
        .collect();
    server.serve(
        "/wire.rss",
        Route::ok(format!(
            "<rss version=\"2.0\"><channel><title>Wire</title><item><guid>w1</guid>\
             <title>Lab's model now speaks more languages</title><link>https://wire.example/w1</link>\
             <description>{full}</description></item></channel></rss>"
        )),
    );
    app::poll_once(&config.load(), app::Selection::One("wire"), &|_| {})
        .await
        .expect("poll the wire");
    let store = app::open_store(&config.load()).await.expect("store");
    let items = store
        .call(|s| s.items_matching(None, 10))
        .await
        .expect("items");
    assert_eq!(items.len(), 1, "one story: {items:#?}");
    let feeds: Vec<_> = items[0]
        .sources
        .iter()
        .map(|s| s.feed_name.as_str())
        .collect();
    assert_eq!(feeds, ["teasers", "wire"]);
}
