//! No script reaches a reader through a link: hostile URLs in every field that carries one,
//! in RSS, Atom and JSON Feed sources, go through a poll and out through every output
//! format, every HTML page and OPML; only `http` and `https` URLs come out, the HTML pages
//! forbid script, and Chromium runs none of it.

use crate::support::{
    Route, TestConfig, TestServer, chromium, feeds_toml, get_text, run_feedsift, serve_outputs,
};

/// Values browsers would follow to run script or leave the web, disguised as they are in
/// the wild. Each is written into the documents below as raw text of an element or
/// attribute, so XML decoding applies first (`&amp;#x09;` arrives as `&#x09;`).
const HOSTILE: [&str; 9] = [
    "javascript:document.body.dataset.pwned=1",
    "JaVaScRiPt:document.body.dataset.pwned=1",
    " \t javascript:document.body.dataset.pwned=1",
    "java&amp;#x09;script:document.body.dataset.pwned=1",
    "java&#x09;script:document.body.dataset.pwned=1",
    "%6Aavascript:document.body.dataset.pwned=1",
    "vbscript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "file:///etc/passwd",
];

/// Content that would run script if a sanitiser or the page let it.
const HOSTILE_CONTENT: &str = "<p>Body of the hostile story, long enough to be a story.</p>\
    <img src=x onerror=\"document.body.dataset.pwned=1\">\
    <a href=\"javascript:document.body.dataset.pwned=1\">click</a>\
    <svg onload=\"document.body.dataset.pwned=1\"></svg><script>document.body.dataset.pwned=1</script>";

fn xml(text: &str) -> String {
    html_escape::encode_text(text).into_owned()
}

fn rss(i: usize, bad: &str) -> String {
    format!(
        "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\"><channel><title>r{i}</title>\
         <link>{bad}</link><description>d</description>\
         <item xml:base=\"{bad}\"><guid isPermaLink=\"false\">r{i}</guid>\
         <title>&lt;b&gt;RSS {i}&lt;/b&gt; &amp;amp; \"quotes\"</title><link>{bad}</link>\
         <source url=\"{bad}\">s</source><comments>{bad}</comments>\
         <enclosure url=\"{bad}\" type=\"audio/mpeg\" length=\"1\"/>\
         <media:thumbnail url=\"{bad}\"/><description>{}</description></item></channel></rss>",
        xml(HOSTILE_CONTENT)
    )
}

fn atom(i: usize, bad: &str) -> String {
    format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"{bad}\"><title>a{i}</title>\
         <id>urn:a{i}</id><updated>2024-01-01T00:00:00Z</updated><link href=\"{bad}\"/>\
         <entry xml:base=\"{bad}\"><id>urn:a{i}:1</id><title>Atom {i}</title>\
         <updated>2024-01-01T00:00:00Z</updated><link href=\"{bad}\"/>\
         <link rel=\"enclosure\" href=\"{bad}\"/><link rel=\"related\" href=\"//evil.example/x\"/>\
         <author><name>Eve</name><uri>{bad}</uri></author>\
         <content type=\"html\">{}</content></entry></feed>",
        xml(HOSTILE_CONTENT)
    )
}

fn json(i: usize, bad: &str) -> String {
    // In JSON there is no XML decoding: the entity form stays as written.
    let bad = bad.replace("&amp;", "&");
    serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1", "title": format!("j{i}"),
        "home_page_url": bad, "feed_url": bad,
        "items": [{
            "id": format!("j{i}"), "url": bad, "external_url": bad, "image": bad,
            "banner_image": bad, "title": format!("<b>JSON {i}</b> & \"quotes\""),
            "authors": [{"name": "Eve", "url": bad}],
            "attachments": [{"url": bad, "mime_type": "audio/mpeg"}],
            "content_html": HOSTILE_CONTENT,
        }]
    })
    .to_string()
}

/// Every URL-looking value in a document: attribute values of `href`, `src`, `url`,
/// `xmlUrl`, `htmlUrl`, the text of `<link>` elements, and JSON string fields named like URLs.
fn published_urls(doc: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for attribute in ["href=\"", "src=\"", "url=\"", "xmlUrl=\"", "htmlUrl=\""] {
        for (at, _) in doc.match_indices(attribute) {
            let rest = &doc[at + attribute.len()..];
            urls.push(rest[..rest.find('"').unwrap_or(rest.len())].to_string());
        }
    }
    for (at, _) in doc.match_indices("<link>") {
        let rest = &doc[at + 6..];
        urls.push(rest[..rest.find('<').unwrap_or(rest.len())].to_string());
    }
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(doc) {
        collect_json_urls(&json, &mut urls);
    }
    urls
}

fn collect_json_urls(value: &serde_json::Value, urls: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match v {
                    serde_json::Value::String(s) if key.contains("url") || key == "image" => {
                        urls.push(s.clone());
                    }
                    _ => collect_json_urls(v, urls),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_json_urls(v, urls)),
        _ => {}
    }
}

fn assert_only_web_urls(what: &str, doc: &str) {
    let urls = published_urls(doc);
    assert!(!urls.is_empty(), "{what}: no URLs found at all");
    for url in urls {
        let decoded = html_escape::decode_html_entities(&url).to_ascii_lowercase();
        assert!(
            decoded.starts_with("http://") || decoded.starts_with("https://"),
            "{what} publishes {url:?}\n{doc}"
        );
    }
    let lower = doc.to_ascii_lowercase();
    for marker in ["javascript", "vbscript", "data:text", "file:", "pwned"] {
        assert!(!lower.contains(marker), "{what} contains {marker}\n{doc}");
    }
}

struct Hostile {
    _server: TestServer,
    config: TestConfig,
}

/// Serves one RSS, Atom and JSON document per hostile value and polls them all.
async fn polled_hostile_feeds() -> Hostile {
    let server = TestServer::start().await;
    let mut feeds = Vec::new();
    for (i, bad) in HOSTILE.iter().enumerate() {
        for (kind, doc) in [
            ("rss", rss(i, bad)),
            ("atom", atom(i, bad)),
            ("json", json(i, bad)),
        ] {
            let name = format!("{kind}{i}");
            server.serve(&format!("/{name}"), Route::ok(doc));
            feeds.push((name.clone(), server.url(&format!("/{name}"))));
        }
    }
    let list: Vec<(&str, &str, &[&str])> = feeds
        .iter()
        .map(|(n, u)| (n.as_str(), u.as_str(), &["hostile"][..]))
        .collect();
    let config = TestConfig::write(&format!(
        "[fetch]\nper_host = 8\nper_host_delay = \"0s\"\n\n{}[[output]]\nname = \"all\"\n",
        feeds_toml(&list)
    ));
    let polled = run_feedsift("poll", &config.path, &["--all"]).await;
    assert_eq!(polled.code, Some(0), "{}", polled.stderr);
    Hostile {
        _server: server,
        config,
    }
}

#[tokio::test]
async fn hostile_urls_never_reach_any_output_page_or_opml() {
    let hostile = polled_hostile_feeds().await;
    let (base, _stop) = serve_outputs(&hostile.config.load()).await;
    let json = get_text(&format!("{base}/feeds/all.json")).await;
    let items = serde_json::from_str::<serde_json::Value>(&json).expect("JSON Feed")["items"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(
        items,
        HOSTILE.len() * 3,
        "every hostile item is still published\n{json}"
    );
    for path in [
        "/feeds/all.atom",
        "/feeds/all.rss",
        "/feeds/all.json",
        "/tags/hostile.atom",
        "/tags/hostile.rss",
        "/search.json?q=%23hostile",
        "/feeds/all",
        "/",
        "/opml",
    ] {
        let response = reqwest::get(format!("{base}{path}")).await.expect("GET");
        let is_html = response
            .headers()
            .get("content-type")
            .is_some_and(|t| t.to_str().unwrap_or("").starts_with("text/html"));
        let csp = response
            .headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let nosniff = response.headers().get("x-content-type-options").cloned();
        let body = response.text().await.expect("body");
        if is_html {
            assert!(
                csp.contains("default-src 'none'") && !csp.contains("script-src"),
                "{path}: {csp}"
            );
            assert_eq!(
                nosniff.as_ref().and_then(|v| v.to_str().ok()),
                Some("nosniff"),
                "{path}"
            );
        }
        assert_only_web_urls(path, &body);
    }
    // Titles stay plain text: literal in JSON, escaped once in XML and HTML.
    assert!(
        json.contains(r#""title": "<b>JSON 0</b> & \"quotes\"""#),
        "{json}"
    );
    let atom = get_text(&format!("{base}/feeds/all.atom")).await;
    assert!(
        atom.contains("<title>&lt;b&gt;RSS 0&lt;/b&gt; &amp;amp; &quot;quotes&quot;</title>"),
        "{atom}"
    );
}

#[tokio::test]
async fn explain_shows_the_links_that_were_dropped() {
    let hostile = polled_hostile_feeds().await;
    let explained = run_feedsift("explain", &hostile.config.path, &["urn:a0:1"]).await;
    assert_eq!(explained.code, Some(0), "{}", explained.stderr);
    assert!(
        explained.stdout.contains("link dropped, not http or https")
            && explained
                .stdout
                .contains("javascript:document.body.dataset.pwned=1"),
        "{}",
        explained.stdout
    );
    let feeds = run_feedsift("feeds", &hostile.config.path, &[]).await;
    assert!(feeds.stdout.contains("site link"), "{}", feeds.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_runs_no_script_from_hostile_items() {
    let hostile = polled_hostile_feeds().await;
    let (base, _stop) = serve_outputs(&hostile.config.load()).await;
    let profile = tempfile::tempdir().expect("profile");
    for path in ["/feeds/all", "/"] {
        let out = chromium(profile.path())
            .args(["--virtual-time-budget=2000", "--dump-dom"])
            .arg(format!("{base}{path}"))
            .output()
            .await
            .expect("chromium is installed (apt-get install chromium)");
        let dom = String::from_utf8_lossy(&out.stdout);
        assert!(dom.contains("</body>"), "{path}: rendered\n{dom}");
        assert!(
            !dom.contains("data-pwned"),
            "{path}: a hostile script ran\n{dom}"
        );
        assert_only_web_urls(path, &dom);
    }
}
