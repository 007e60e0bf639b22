//! Published documents as readers see them: validity of every format, sanitised content,
//! HTTP validators and compression, the HTML pages and OPML.

use std::io::Read as _;

use crate::support::{Route, TestConfig, TestServer, feeds_toml, fixture, serve_outputs};
use feedsift::app;

/// A config with the story fixtures and the hostile fixture, polled once, served in-process.
async fn published(
    server: &TestServer,
) -> (TestConfig, String, tokio_util::sync::CancellationToken) {
    server.serve("/vb.rss", Route::ok(fixture("openai_story.rss")));
    server.serve("/hostile.atom", Route::ok(fixture("hostile_content.atom")));
    let written = TestConfig::write(&format!(
        "[server]\nbase_url = \"http://feeds.example/sift/\"\ncache_max_age = \"2m\"\n\n{}[[output]]\nname = \"all\"\ntitle = \"Everything\"\n",
        feeds_toml(&[
            ("vb", &server.url("/vb.rss"), &["AI"]),
            ("hostile", &server.url("/hostile.atom"), &[])
        ])
    ));
    let config = written.load();
    app::poll_once(&config, app::Selection::All, &|_| {})
        .await
        .expect("poll");
    let (base, stop) = serve_outputs(&config).await;
    (written, base, stop)
}

async fn get(url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let mut request = client.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("GET")
}

#[tokio::test]
async fn every_format_carries_the_elements_its_spec_requires() {
    let server = TestServer::start().await;
    let (_config, base, _stop) = published(&server).await;

    let atom = get(&format!("{base}/feeds/all.atom"), &[])
        .await
        .bytes()
        .await
        .expect("body");
    let feed = atom_syndication::Feed::read_from(&atom[..]).expect("strict Atom parse");
    assert_eq!(feed.title.as_str(), "Everything");
    assert_eq!(feed.id, "http://feeds.example/sift/feeds/all.atom");
    assert!(
        feed.links
            .iter()
            .any(|l| l.rel == "self" && l.href == "http://feeds.example/sift/feeds/all.atom")
    );
    assert_eq!(feed.entries.len(), 4);
    for entry in &feed.entries {
        assert!(entry.id.starts_with("urn:uuid:") && !entry.title.as_str().is_empty());
        assert!(
            entry.links.iter().any(|l| l.rel == "alternate"),
            "{}",
            entry.id
        );
        assert!(
            entry
                .source
                .as_ref()
                .is_some_and(|s| !s.id.is_empty() && !s.title.as_str().is_empty())
        );
    }
    let dates: Vec<_> = feed
        .entries
        .iter()
        .map(|e| e.published.unwrap_or(e.updated))
        .collect();
    assert!(
        dates.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {dates:?}"
    );

    let rss = get(&format!("{base}/feeds/all.rss"), &[])
        .await
        .bytes()
        .await
        .expect("body");
    let channel = rss::Channel::read_from(&rss[..]).expect("strict RSS parse");
    assert!(
        !channel.title.is_empty() && !channel.link.is_empty() && !channel.description.is_empty()
    );
    assert_eq!(channel.items.len(), 4);
    for item in &channel.items {
        assert!(
            item.guid
                .as_ref()
                .is_some_and(|g| !g.permalink && g.value.starts_with("urn:uuid:"))
        );
        assert!(item.title.is_some() && item.pub_date.is_some() && item.source.is_some());
        assert!(item.content.is_some(), "content:encoded");
    }

    let json = get(&format!("{base}/feeds/all.json"), &[])
        .await
        .bytes()
        .await
        .expect("body");
    let doc: serde_json::Value = serde_json::from_slice(&json).expect("JSON");
    assert_eq!(doc["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(doc["title"], "Everything");
    let items = doc["items"].as_array().expect("items");
    assert_eq!(items.len(), 4);
    assert!(items.iter().all(|i| {
        i["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("urn:uuid:"))
    }));

    let atom_ids: Vec<String> = feed.entries.iter().map(|e| e.id.clone()).collect();
    let json_ids: Vec<String> = items
        .iter()
        .filter_map(|i| i["id"].as_str().map(String::from))
        .collect();
    assert_eq!(atom_ids, json_ids, "the same entry ids in every format");
}

#[tokio::test]
async fn hostile_markup_is_removed_and_relative_links_made_absolute() {
    let server = TestServer::start().await;
    let (_config, base, _stop) = published(&server).await;
    for ext in ["atom", "rss", "json"] {
        let body = get(&format!("{base}/feeds/all.{ext}"), &[])
            .await
            .text()
            .await
            .expect("body");
        for bad in [
            "<script",
            "onclick",
            "onerror",
            "javascript:",
            "<iframe",
            "data:text",
            "<style",
            "&lt;script",
        ] {
            assert!(!body.contains(bad), "{ext} still contains {bad}");
        }
        assert!(
            body.contains("https://cdn.hostile.example/posts/2024/cat.png"),
            "{ext}: xml:base applied"
        );
        assert!(
            body.contains("https://cdn.hostile.example/posts/about"),
            "{ext}: ../ resolved"
        );
        assert!(
            body.contains("https://hostile.example/img/dog.png"),
            "{ext}: item link as base"
        );
    }
}

#[tokio::test]
async fn unchanged_documents_answer_304_and_etags_follow_the_content() {
    let server = TestServer::start().await;
    let (written, base, _stop) = published(&server).await;
    let url = format!("{base}/feeds/all.atom");
    let first = get(&url, &[]).await;
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().expect("etag").to_string();
    let modified = first.headers()["last-modified"]
        .to_str()
        .expect("last-modified")
        .to_string();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong: {etag}"
    );
    assert_eq!(first.headers()["cache-control"], "public, max-age=120");
    assert!(
        first.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("application/atom+xml")
    );
    let body = first.bytes().await.expect("body");

    let again = get(&url, &[]).await;
    assert_eq!(
        again.headers()["etag"].to_str().expect("etag"),
        etag,
        "same content, same tag"
    );
    assert_eq!(get(&url, &[("if-none-match", &etag)]).await.status(), 304);
    assert_eq!(
        get(&url, &[("if-modified-since", &modified)])
            .await
            .status(),
        304
    );
    assert_eq!(
        get(&url, &[("if-none-match", "\"stale\"")]).await.status(),
        200
    );
    assert_eq!(
        get(
            &url,
            &[("if-modified-since", "Mon, 01 Jan 2001 00:00:00 GMT")]
        )
        .await
        .status(),
        200
    );

    let client = reqwest::Client::builder()
        .no_proxy()
        .no_gzip()
        .build()
        .expect("client");
    let zipped = client
        .get(&url)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("GET");
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    assert_eq!(zipped.headers()["vary"], "Accept-Encoding, A-IM");
    let gz_etag = zipped.headers()["etag"].to_str().expect("etag").to_string();
    let compressed = zipped.bytes().await.expect("body");
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut plain)
        .expect("gunzip");
    assert_eq!(plain, body.to_vec());
    let revalidated = client
        .get(&url)
        .header("accept-encoding", "gzip")
        .header("if-none-match", &gz_etag)
        .send()
        .await
        .expect("GET");
    assert_eq!(revalidated.status(), 304);

    let mut changed = String::from_utf8(fixture("openai_story.rss")).expect("utf-8");
    changed = changed.replace("A model predicts rain.", "A model predicts snow.");
    server.serve("/vb.rss", Route::ok(changed));
    let config = written.load();
    app::poll_once(&config, app::Selection::All, &|_| {})
        .await
        .expect("poll");
    let after = get(&url, &[("if-none-match", &etag)]).await;
    assert_eq!(after.status(), 200, "changed content must not be 304");
    assert_ne!(after.headers()["etag"].to_str().expect("etag"), etag);
}

#[tokio::test]
async fn pages_list_entries_with_feed_autodiscovery_and_the_status_of_every_feed() {
    let server = TestServer::start().await;
    let (_config, base, _stop) = published(&server).await;
    let page = get(&format!("{base}/feeds/all"), &[]).await;
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/html")
    );
    let html = page.text().await.expect("html");
    assert!(html.contains(r#"<link rel="alternate" type="application/atom+xml" title="Everything" href="http://feeds.example/sift/feeds/all.atom">"#), "{html}");
    assert!(html.contains("Microsoft invests billions in OpenAI") && html.contains("#OpenAI"));
    assert!(!html.contains("<script") && !html.contains("onerror"));

    let status = get(&format!("{base}/"), &[])
        .await
        .text()
        .await
        .expect("html");
    assert!(
        status.contains("Everything") && status.contains("http://feeds.example/sift/feeds/all.rss")
    );
    assert!(status.contains(">vb<") && status.contains(">hostile<") && status.contains("ok"));

    let opml = get(&format!("{base}/opml"), &[])
        .await
        .text()
        .await
        .expect("opml");
    let doc = opml::OPML::from_str(&opml).expect("valid OPML");
    // vb is listed in the folder of its first tag, hostile (no tags) at the top.
    let urls: Vec<_> = doc
        .body
        .outlines
        .iter()
        .flat_map(|o| std::iter::once(o).chain(o.outlines.iter()))
        .filter_map(|o| o.xml_url.clone())
        .collect();
    assert_eq!(urls, [server.url("/vb.rss"), server.url("/hostile.atom")]);
    assert_eq!(doc.body.outlines[0].text, "AI");
}

#[tokio::test]
async fn metrics_report_every_feeds_health_in_prometheus_text() {
    let server = TestServer::start().await;
    let (_config, base, _stop) = published(&server).await;
    let response = get(&format!("{base}/metrics"), &[]).await;
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.expect("text");
    for line in [
        "feedsift_items 4",
        "feedsift_feed_up{feed=\"vb\"} 1",
        "feedsift_feed_consecutive_failures{feed=\"hostile\"} 0",
        "feedsift_feed_broken{feed=\"vb\"} 0",
        "feedsift_feed_items{feed=\"vb\"} 2",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    crate::support::assert_prometheus_text(&text);
}

#[tokio::test]
async fn render_writes_the_document_the_server_serves() {
    let server = TestServer::start().await;
    let (written, base, _stop) = published(&server).await;
    for format in ["atom", "rss", "json"] {
        let out = written.path.with_file_name(format!("all.{format}"));
        let ran = crate::support::run_feedsift(
            "render",
            &written.path,
            &["all", "--format", format, "-o", &out.to_string_lossy()],
        )
        .await;
        assert_eq!(ran.code, Some(0), "{}", ran.stderr);
        let rendered = std::fs::read_to_string(&out).expect("rendered file");
        let served = get(&format!("{base}/feeds/all.{format}"), &[])
            .await
            .text()
            .await
            .expect("body");
        assert_eq!(rendered, served, "{format}");
    }
    let unknown = crate::support::run_feedsift("render", &written.path, &["nope"]).await;
    assert_eq!(unknown.code, Some(2));
}

#[tokio::test]
async fn every_format_names_the_author_and_the_other_sites_inside_what_readers_show() {
    let server = TestServer::start().await;
    let config = crate::support::two_copies_config(&server, "[[output]]\nname = \"all\"\n");
    let config = config.load();
    app::poll_once(&config, app::Selection::All, &|_| {})
        .await
        .expect("poll");
    let (base, _stop) = serve_outputs(&config).await;
    let also = "Also reported by <a href=\"https://venturebeat.example/ai/microsoft-openai/\">Tech Digest</a>";
    for format in ["atom", "rss", "json"] {
        let body = get(&format!("{base}/feeds/all.{format}"), &[])
            .await
            .text()
            .await
            .expect("body");
        let feed = feed_rs::parser::parse(body.as_bytes()).expect("parses");
        let entry = |title: &str| {
            feed.entries
                .iter()
                .find(|e| e.title.as_ref().is_some_and(|t| t.content.contains(title)))
                .unwrap_or_else(|| panic!("{format}: {title} in {body}"))
        };
        let text = |e: &feed_rs::model::Entry| {
            e.content
                .as_ref()
                .and_then(|c| c.body.clone())
                .or_else(|| e.summary.as_ref().map(|s| s.content.clone()))
                .unwrap_or_default()
        };
        let authors = |e: &feed_rs::model::Entry| -> Vec<String> {
            e.authors.iter().filter_map(|a| a.name.clone()).collect()
        };
        let shared = entry("Microsoft invests billions");
        assert!(text(shared).contains(also), "{format}: {}", text(shared));
        assert_eq!(authors(shared), ["VentureBeat AI"], "{format}");
        let single = entry("Chip prices fall");
        assert!(!text(single).contains("Also reported"), "{format}");
        assert_eq!(
            authors(single),
            ["Tech Digest"],
            "{format}: the site that carried it"
        );
    }
}

/// An RSS document of `count` stories, story `i` published `i` hours after a fixed time,
/// with `edit` in the text of story 0.
fn dated_stories(count: usize, edit: &str) -> String {
    let items: String = (0..count)
        .rev()
        .map(|i| {
            let date = chrono::DateTime::from_timestamp(1_700_000_000 + i as i64 * 3600, 0)
                .unwrap_or_default()
                .to_rfc2822();
            let extra = if i == 0 { edit } else { "" };
            format!(
                "<item><guid>s-{i}</guid><title>Story {i}</title><link>https://s.example/{i}</link>\
                 <pubDate>{date}</pubDate><description>Story {i}, told in enough words to be one. {extra}</description></item>"
            )
        })
        .collect();
    format!(
        "<rss version=\"2.0\"><channel><title>s</title><link>https://s.example/</link>\
         <description>d</description>{items}</channel></rss>"
    )
}

/// The entry ids and links of a document, and the document itself.
async fn feed_at(url: &str) -> (feed_rs::model::Feed, String, reqwest::header::HeaderMap) {
    let response = get(url, &[]).await;
    assert_eq!(response.status(), 200, "{url}");
    let headers = response.headers().clone();
    let body = response.text().await.expect("body");
    let feed = feed_rs::parser::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{url}: {e}"));
    (feed, body, headers)
}

fn link_of<'f>(feed: &'f feed_rs::model::Feed, rel: &str) -> Option<&'f str> {
    feed.links
        .iter()
        .find(|l| l.rel.as_deref() == Some(rel))
        .map(|l| l.href.as_str())
}

#[tokio::test]
async fn archive_pages_hold_the_whole_history_link_up_and_never_change_once_full() {
    let server = TestServer::start().await;
    server.serve("/s.rss", Route::ok(dated_stories(120, "")));
    let written = crate::support::ConfigBuilder::new()
        .storage("max_items_per_feed", "1000")
        .feeds(&[("s", &server.url("/s.rss"), &[])])
        .tables("[[output]]\nname = \"all\"\n")
        .write();
    let config = written.load();
    app::poll_once(&config, app::Selection::All, &|_| {})
        .await
        .expect("poll");
    // The daemon brings archives up to date after polls; serving only reads them.
    let daemon = crate::support::InProcess::start(&written.path).await;
    let base = daemon.url("");
    let site = config.server.base_url.to_string();
    let local = |url: &str| url.replace(&site, &format!("{base}/"));

    let current = newest_page_is(
        &format!("{base}/feeds/all.atom"),
        "/feeds/all/archive/2.atom",
    )
    .await;
    assert_eq!(current.entries.len(), 50);
    let newest = local(link_of(&current, "prev-archive").expect("prev-archive"));
    let (page2, page2_body, headers) = feed_at(&newest).await;
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        page2_body.contains("<fh:archive"),
        "marked as an archive page"
    );
    assert!(link_of(&page2, "current").is_some_and(|c| c.ends_with("/feeds/all.atom")));
    let page1_url = local(link_of(&page2, "prev-archive").expect("page 1"));
    let (page1, page1_body, _) = feed_at(&page1_url).await;
    assert_eq!(
        link_of(&page1, "prev-archive"),
        None,
        "page 1 is the oldest"
    );
    assert_eq!((page1.entries.len(), page2.entries.len()), (50, 50));
    // The current document and the pages together hold every story once.
    let mut ids: Vec<String> = [&current, &page2, &page1]
        .iter()
        .flat_map(|f| f.entries.iter().map(|e| e.id.clone()))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 120, "the whole history");
    assert!(
        page1
            .entries
            .iter()
            .any(|e| e.title.as_ref().is_some_and(|t| t.content == "Story 0"))
    );

    // RSS and JSON Feed link the same pages.
    let rss = get_text_of(&format!("{base}/feeds/all.rss")).await;
    assert!(
        rss.contains("rel=\"prev-archive\"") && rss.contains("/feeds/all/archive/2.rss"),
        "{rss}"
    );
    let json = get_text_of(&format!("{base}/feeds/all.json")).await;
    let next = format!("\"next_url\": \"{site}feeds/all/archive/2.json\"");
    assert!(json.contains(&next), "{json}");

    // Story 0 changes and 40 newer stories arrive: page 1 stays byte for byte, page 3 fills.
    server.serve("/s.rss", Route::ok(dated_stories(160, "Corrected.")));
    app::poll_once(&config, app::Selection::All, &|_| {})
        .await
        .expect("poll");
    let current = newest_page_is(
        &format!("{base}/feeds/all.atom"),
        "/feeds/all/archive/3.atom",
    )
    .await;
    let newest = local(link_of(&current, "prev-archive").expect("prev-archive"));
    let (_, again, _) = feed_at(&page1_url).await;
    assert_eq!(again, page1_body, "a full page never changes");
    let (page3, _, _) = feed_at(&newest).await;
    assert!(link_of(&page3, "prev-archive").is_some_and(|p| p.ends_with("/archive/2.atom")));
    assert_eq!(
        get(&format!("{base}/feeds/all/archive/9.atom"), &[])
            .await
            .status(),
        404
    );
    daemon.stop().await;
}

/// The current document at `url` once its newest archive page is the one ending in `page`
/// (waiting up to 10 s for the daemon to bring the archive up to date).
async fn newest_page_is(url: &str, page: &str) -> feed_rs::model::Feed {
    for _ in 0..200 {
        let (current, _, _) = feed_at(url).await;
        if link_of(&current, "prev-archive").is_some_and(|p| p.ends_with(page)) {
            return current;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{url} never linked {page}");
}

async fn get_text_of(url: &str) -> String {
    get(url, &[]).await.text().await.expect("body")
}
