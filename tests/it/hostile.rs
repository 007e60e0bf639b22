//! Hostile and broken upstreams, all at once next to a good feed: each is refused or read
//! within the limits, with its reason recorded, and nothing of it reaches the outputs except
//! valid items, sanitised.

use std::time::Duration;

use feedsift::app;
use feedsift::model::FeedHealth;

use crate::support::{Route, TestConfig, TestServer, feeds_toml, fixture, get_text, serve_outputs};

fn rss(items: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>t</title>\
         <link>https://h.example/</link><description>d</description>{items}</channel></rss>"
    )
}

/// `rss(items)` with a DOCTYPE after its XML declaration, where XML wants it.
fn with_doctype(doctype: &str, items: &str) -> String {
    rss(items).replacen("?>", &format!("?>{doctype}"), 1)
}

fn item(guid: &str, title: &str) -> String {
    format!(
        "<item><guid>{guid}</guid><title>{title}</title><link>https://h.example/{guid}</link></item>"
    )
}

/// Each hostile case: feed name, what the server sends.
fn cases(server: &TestServer) -> Vec<(&'static str, Route)> {
    let laughs = (1..10)
        .map(|n| {
            format!(
                "<!ENTITY lol{n} \"{}\">",
                format!("&lol{};", n - 1).repeat(10)
            )
        })
        .collect::<String>();
    let big_entity = "x".repeat(50_000);
    let deep = format!("{}deep{}", "<div>".repeat(20_000), "</div>".repeat(20_000));
    let million: String = (0..1_000_000)
        .map(|i| format!("<item><guid>{i}</guid></item>"))
        .collect();
    let hundred_mb = rss(&format!(
        "<item><title>{}</title></item>",
        "a".repeat(100 << 20)
    ));
    let latin = encoding_rs::WINDOWS_1252
        .encode(&rss(&item("w1", "Café “quoted”")))
        .0
        .into_owned();
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(
        rss(&item("u1", "Grüße"))
            .replace("utf-8", "utf-16")
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    let scripts = r#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title><id>urn:x</id><updated>2024-01-01T00:00:00Z</updated>
<entry><id>urn:x:1</id><title>xhtml</title><updated>2024-01-01T00:00:00Z</updated><link href="https://x.example/1"/>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><script>alert(2)</script><svg onload="alert(3)"/><a href="javascript:alert(4)">j</a></div></content></entry></feed>"#;
    vec![
        ("good", Route::ok(fixture("openai_story.rss"))),
        (
            "laughs",
            Route::ok(with_doctype(
                &format!("<!DOCTYPE rss [<!ENTITY lol0 \"lol\">{laughs}]>"),
                &item("l1", "&lol9;"),
            )),
        ),
        (
            "quadratic",
            Route::ok(with_doctype(
                &format!("<!DOCTYPE rss [<!ENTITY big \"{big_entity}\">]>"),
                &item("q1", &"&big;".repeat(20_000)),
            )),
        ),
        (
            "xxe",
            Route::ok(with_doctype(
                "<!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>",
                &item("x1", "&xxe;"),
            )),
        ),
        (
            "external_dtd",
            Route::ok(with_doctype(
                &format!("<!DOCTYPE rss SYSTEM \"{}\">", server.url("/evil.dtd")),
                &item("e1", "valid despite its DTD"),
            )),
        ),
        (
            "deep",
            Route::ok(rss(&format!(
                "<item><guid>d1</guid><title>deep</title><description>{deep}</description></item>"
            ))),
        ),
        ("huge_item", Route::ok(hundred_mb)),
        ("million", Route::ok(rss(&million))),
        ("latin1_as_utf8", Route::ok(latin)),
        ("utf16", Route::ok(utf16)),
        ("nul", Route::ok(rss(&item("n1", "nul\0byte")))),
        (
            "drip",
            Route::ok(rss(&item("dr1", "slow"))).dripping(Duration::from_millis(100)),
        ),
        (
            "gzip_bomb",
            Route::ok(fixture("hostile/gzip_bomb.xml.gz")).with_header("content-encoding", "gzip"),
        ),
        (
            "html",
            Route::ok("<!doctype html><html><body><h1>Not a feed</h1></body></html>"),
        ),
        (
            "dates",
            Route::ok(rss(
                "<item><guid>t1</guid><title>past</title><pubDate>Mon, 01 Jan 1800 00:00:00 GMT</pubDate></item>\
                 <item><guid>t2</guid><title>future</title><pubDate>Fri, 01 Jan 2999 00:00:00 GMT</pubDate></item>\
                 <item><guid>t3</guid><title>nonsense</title><pubDate>the day after tomorrow</pubDate></item>",
            )),
        ),
        (
            "long_title",
            Route::ok(rss(&item("lt1", &"long ".repeat(200_000)))),
        ),
        (
            "dup_guids",
            Route::ok(rss(&format!(
                "{}{}{}",
                item("same", "first").replace("/same", "/a"),
                item("same", "second").replace("/same", "/b"),
                item("same", "third").replace("/same", "/c")
            ))),
        ),
        ("shared_a", Route::ok(rss(&item("shared-1", "Version A")))),
        ("shared_b", Route::ok(rss(&item("shared-1", "Version B")))),
        ("scripts", Route::ok(scripts)),
        (
            "hostile_content",
            Route::ok(fixture("hostile_content.atom")),
        ),
        (
            "to_metadata",
            Route::redirect(302, "http://169.254.169.254/latest/meta-data/"),
        ),
        ("to_lan", Route::redirect(301, "http://10.1.2.3/feed")),
    ]
}

#[tokio::test]
async fn hostile_feeds_are_refused_or_contained_and_the_good_one_is_unaffected() {
    let server = TestServer::start().await;
    let cases = cases(&server);
    let feeds: Vec<(String, &str)> = cases
        .iter()
        .map(|(name, _)| (server.url(&format!("/{name}")), *name))
        .collect();
    for (name, route) in cases {
        server.serve(&format!("/{name}"), route);
    }
    let toml: Vec<(&str, &str, &[&str])> = feeds
        .iter()
        .map(|(url, name)| (*name, url.as_str(), &[][..]))
        .collect();
    let written = TestConfig::write(&format!(
        "[fetch]\nper_host_delay = \"1ms\"\nper_host = 8\ntimeout = \"3s\"\nmax_body = \"32MiB\"\n\n\
         [storage]\nmax_items_per_feed = 500\n\n{}[[output]]\nname = \"all\"\nlimit = 1000\n",
        feeds_toml(&toml)
    ));
    let config = written.load();
    app::poll_once(&config, app::Selection::All, &|_| {})
        .await
        .expect("the poll completes whatever the feeds hold");

    let store = app::open_store(&config).await.expect("store");
    let health = store.call(|s| s.feed_health()).await.expect("health");
    let feed = |name: &str| -> &FeedHealth {
        health
            .iter()
            .find(|h| h.name == name)
            .unwrap_or_else(|| panic!("feed {name}"))
    };
    let failed = |name: &str, reason: &str| {
        let h = feed(name);
        let error = h.last_error.as_deref().unwrap_or_default();
        assert_eq!(
            h.last_status.map(feedsift::model::PollStatus::as_str),
            Some("failed"),
            "{name}: {error}"
        );
        assert!(error.contains(reason), "{name}: {error}");
        assert_eq!(h.items, 0, "{name}");
    };
    let read = |name: &str, items: i64, repairs: Option<&str>| {
        let h = feed(name);
        assert_eq!(
            h.last_status.map(feedsift::model::PollStatus::as_str),
            Some("fetched"),
            "{name}: {:?}",
            h.last_error
        );
        assert_eq!((h.items, h.repairs.as_deref()), (items, repairs), "{name}");
    };

    read("good", 2, None);
    for bomb in ["laughs", "quadratic", "xxe"] {
        failed(bomb, "refused: the document declares entities");
    }
    read("external_dtd", 1, None);
    assert!(
        server.requests("/evil.dtd").is_empty(),
        "the DTD was fetched"
    );
    read("deep", 1, None);
    failed("huge_item", "larger than");
    read(
        "million",
        500,
        Some("only the first 500 of 1000000 items read"),
    );
    read(
        "latin1_as_utf8",
        1,
        Some("not valid UTF-8, read as windows-1252"),
    );
    read("utf16", 1, None);
    read("nul", 1, Some("control characters"));
    failed("drip", "timed out");
    failed("gzip_bomb", "larger than");
    failed("html", "not a feed");
    read("dates", 3, None);
    read("long_title", 1, None);
    read("dup_guids", 3, None);
    assert!(feed("dup_guids").guid_fallback);
    // A loopback feed may not redirect into other private ranges (cloud metadata, the LAN).
    failed("to_metadata", "redirect to a private address");
    failed("to_lan", "redirect to a private address");
    read("shared_a", 1, None);
    read("shared_b", 1, None);

    let (base, _stop) = serve_outputs(&config).await;
    let body = get_text(&format!("{base}/feeds/all.json")).await;
    let json: serde_json::Value = serde_json::from_str(&body).expect("JSON Feed");
    let items = json["items"].as_array().expect("items");
    let titled = |title: &str| items.iter().find(|i| i["title"] == title);
    assert!(titled("Café “quoted”").is_some() && titled("Grüße").is_some());
    assert!(titled("nulbyte").is_some(), "NUL dropped from the title");
    assert!(titled("Version A").is_some() && titled("Version B").is_some());
    let future = titled("future").expect("future item")["date_published"]
        .as_str()
        .unwrap_or("");
    assert!(future < "2100", "{future}");
    let long = items
        .iter()
        .filter_map(|i| i["title"].as_str())
        .map(|t| t.chars().count())
        .max()
        .unwrap_or(0);
    assert!(long <= 501, "longest title has {long} characters");

    for format in ["atom", "rss", "json"] {
        let body = get_text(&format!("{base}/feeds/all.{format}")).await;
        let lower = body.to_lowercase();
        for bad in [
            "<script",
            "&lt;script",
            "onload=",
            "onerror=",
            "onclick=",
            "javascript:",
            "<iframe",
            "root:x:0",
        ] {
            assert!(!lower.contains(bad), "{format} output contains {bad}");
        }
    }
}
