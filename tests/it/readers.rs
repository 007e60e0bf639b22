//! Real reader software against the real daemon: newsboat (a reader app) and headless
//! Chromium (the HTML pages). `.ci/run` installs both from Debian.

use std::path::Path;

use crate::support::{
    ConfigBuilder, InProcess, Route, SERVED_WITHIN, TestConfig, TestServer, chromium, get_text,
    run_feedsift, serve_outputs, two_copies_config,
};

async fn polled_daemon(server: &TestServer) -> (TestConfig, InProcess) {
    let config = two_copies_config(
        server,
        "[[output]]\nname = \"all\"\ntitle = \"Everything\"\n",
    );
    let polled = run_feedsift("poll", &config.path, &["--all"]).await;
    assert_eq!(polled.code, Some(0), "{}", polled.stderr);
    let daemon = InProcess::start(&config.path).await;
    (config, daemon)
}

/// Runs `newsboat -x reload` on one feed URL with its own cache; returns the cached (guid, title, url) rows.
async fn newsboat_reload(dir: &Path, feed_url: &str) -> Vec<(String, String, String)> {
    let urls = dir.join("urls");
    std::fs::write(&urls, format!("{feed_url}\n")).expect("urls");
    std::fs::write(dir.join("config"), "").expect("config");
    let cache = dir.join("cache.db");
    let out = tokio::process::Command::new("newsboat")
        .env("HOME", dir)
        .arg("-x")
        .arg("reload")
        .arg("-u")
        .arg(&urls)
        .arg("-c")
        .arg(&cache)
        .arg("-C")
        .arg(dir.join("config"))
        .output()
        .await
        .expect("newsboat is installed (apt-get install newsboat)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let conn = rusqlite::Connection::open(&cache).expect("newsboat cache");
    let mut stmt = conn
        .prepare("SELECT guid, title, url FROM rss_item ORDER BY guid")
        .expect("query");
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("rows");
    rows.collect::<Result<_, _>>().expect("rows")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newsboat_reads_each_story_once_from_atom_and_rss() {
    let server = TestServer::start().await;
    let (_config, daemon) = polled_daemon(&server).await;
    let atom_entries = {
        let body = reqwest::get(daemon.url("/feeds/all.atom"))
            .await
            .expect("GET")
            .bytes()
            .await
            .expect("body");
        let feed = feed_rs::parser::parse(&body[..]).expect("feed-rs parses our Atom");
        let mut ids: Vec<_> = feed
            .entries
            .iter()
            .map(|e| (e.id.clone(), e.links[0].href.clone()))
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(atom_entries.len(), 3);
    for format in ["atom", "rss"] {
        let dir = tempfile::tempdir().expect("dir");
        let url = daemon.url(&format!("/feeds/all.{format}"));
        let rows = newsboat_reload(dir.path(), &url).await;
        let seen: Vec<_> = rows
            .iter()
            .map(|(guid, _, url)| (guid.clone(), url.clone()))
            .collect();
        assert_eq!(
            seen, atom_entries,
            "{format}: newsboat holds exactly the published entries"
        );
        assert!(
            rows.iter()
                .any(|(_, title, _)| title == "Microsoft invests billions in OpenAI")
        );
        let again = newsboat_reload(dir.path(), &url).await;
        assert_eq!(
            again.len(),
            rows.len(),
            "{format}: a second reload adds nothing"
        );
    }
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_output_page_renders_in_chromium_with_every_entry() {
    let server = TestServer::start().await;
    let (_config, daemon) = polled_daemon(&server).await;
    let profile = tempfile::tempdir().expect("profile");
    let page = daemon.url("/feeds/all");

    let dom = chromium(profile.path())
        .arg("--dump-dom")
        .arg(&page)
        .output()
        .await
        .expect("chromium is installed (apt-get install chromium)");
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(dom.matches("<article>").count(), 3, "{dom}");
    for title in [
        "Microsoft invests billions in OpenAI",
        "Robots forecast the weather",
        "Chip prices fall",
    ] {
        assert!(dom.contains(title), "{title} missing from the rendered DOM");
    }
    assert!(
        dom.contains("VentureBeat AI") && dom.contains("Tech Digest"),
        "sources shown"
    );

    screenshot(profile.path(), &page, 1000, "output_page").await;
    daemon.stop().await;
}

/// An RSS document of `count` items whose dates go back in time: each new item is older
/// than every earlier one, so the newest date never moves.
fn backdated_items(count: usize) -> String {
    let items: String = (0..count)
        .map(|i| {
            let date = chrono::DateTime::from_timestamp(1_700_000_000 - i as i64 * 3600, 0)
                .unwrap_or_default()
                .to_rfc2822();
            format!(
                "<item><guid>b-{i}</guid><title>Backdated story {i}</title>\
                 <link>https://b.example/{i}</link><pubDate>{date}</pubDate>\
                 <description>Story number {i}, told in enough words to be a story.</description></item>"
            )
        })
        .collect();
    format!(
        "<rss version=\"2.0\"><channel><title>b</title><link>https://b.example/</link>\
         <description>d</description>{items}</channel></rss>"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newsboat_receives_every_new_entry_across_polls_even_when_dates_do_not_move() {
    let server = TestServer::start().await;
    server.serve("/b.rss", Route::ok(backdated_items(4)));
    let config = ConfigBuilder::new()
        .feeds(&[("b", &server.url("/b.rss"), &[])])
        .tables("[[output]]\nname = \"all\"\nlimit = 500\n")
        .write();
    let dir = tempfile::tempdir().expect("dir");
    let (base, _stop) = serve_outputs(&config.load()).await;
    let url = format!("{base}/feeds/all.atom");
    for round in 1..=4 {
        server.serve("/b.rss", Route::ok(backdated_items(4 * round)));
        let polled = run_feedsift("poll", &config.path, &["--all"]).await;
        assert_eq!(polled.code, Some(0), "{}", polled.stderr);
        // newsboat sends If-Modified-Since from its second run on.
        let rows = newsboat_reload(dir.path(), &url).await;
        assert_eq!(
            rows.len(),
            4 * round,
            "round {round}: newsboat has every entry"
        );
    }
}

/// A screenshot of `url` at `width` px, kept as `target/tmp/NAME.png` for people to look at;
/// fails the test unless Chromium wrote a real picture.
async fn screenshot(profile: &Path, url: &str, width: u32, name: &str) {
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.png"));
    let _ = std::fs::remove_file(&shot);
    let out = chromium(profile)
        .arg(format!("--window-size={width},900"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(url)
        .output()
        .await
        .expect("chromium is installed (apt-get install chromium)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 5_000,
        "a real screenshot at {}",
        shot.display()
    );
}

/// Serves `html` (a page of ours, fetched) on `server` with a script appended that records
/// whether the page is wider than the window: our own pages forbid script, so the layout is
/// measured on a copy.
fn measured_copy(server: &TestServer, path: &str, html: &str) -> String {
    let probe = "<script>document.body.setAttribute('data-overflow', \
                 document.documentElement.scrollWidth > window.innerWidth + 1 ? 'yes' : 'no')</script>";
    server.serve(
        path,
        Route::ok(html.replace("</body>", &format!("{probe}</body>")))
            .with_content_type("text/html; charset=utf-8"),
    );
    server.url(path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_reads_well_at_desktop_and_phone_widths() {
    let server = TestServer::start().await;
    server.serve("/down.xml", Route::status(500));
    let config = two_copies_config(
        &server,
        &format!(
            "[[feed]]\nname = \"a-feed-with-a-rather-long-name-that-could-widen-a-table\"\n\
             url = \"{}\"\nallow_private = true\n\n[[output]]\nname = \"all\"\ntitle = \"Everything\"\n",
            server.url("/down.xml")
        ),
    );
    let polled = run_feedsift("poll", &config.path, &["--all"]).await;
    assert_eq!(polled.code, Some(0), "{}", polled.stderr);
    let (base, _stop) = serve_outputs(&config.load()).await;
    let profile = tempfile::tempdir().expect("profile");
    for (name, path) in [
        ("status", "/"),
        ("output", "/feeds/all"),
        ("tag", "/tags/OpenAI"),
        ("search", "/search?q=%23OpenAI+and+not+%23crypto"),
        ("empty_search", "/search?q="),
    ] {
        let response = reqwest::get(format!("{base}{path}")).await.expect("GET");
        assert!(
            response.headers().contains_key("content-security-policy"),
            "{path}"
        );
        let html = response.text().await.expect("html");
        assert!(
            html.contains("← all outputs") && html.contains("name=\"q\""),
            "{path}: nav and search"
        );
        if name != "status" {
            assert!(
                html.contains("class=\"tag\" href="),
                "{path}: tags are links"
            );
        }
        for width in [1280, 400] {
            let url = format!("{base}{path}");
            screenshot(profile.path(), &url, width, &format!("page_{name}_{width}")).await;

            let copy = measured_copy(&server, &format!("/probe/{name}"), &html);
            let dom = chromium(profile.path())
                .arg(format!("--window-size={width},900"))
                .args(["--virtual-time-budget=1000", "--dump-dom"])
                .arg(&copy)
                .output()
                .await
                .expect("chromium");
            let dom = String::from_utf8_lossy(&dom.stdout);
            assert!(
                dom.contains("data-overflow=\"no\""),
                "{path} at {width} px is wider than the window (or was not measured)"
            );
        }
    }
    let status = get_text(&format!("{base}/")).await;
    assert!(
        !status.contains("not_modified") && !status.contains(">fetched<"),
        "{status}"
    );
    assert!(
        status.contains("class=\"failed\""),
        "failures stand out: {status}"
    );
    assert!(
        status.contains("just now<") && status.contains(">in "),
        "relative times: {status}"
    );
}

/// One poll by the delta reader (python feedparser); returns (status, entries brought,
/// entries held).
async fn delta_reader(state: &Path, url: &str) -> (i64, usize, usize) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/clients/delta_reader.py"
    );
    let out = tokio::process::Command::new("python3")
        .arg(script)
        .arg(state)
        .arg(url)
        .output()
        .await
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let seen: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|_| {
        panic!(
            "feedparser is installed (pip install feedparser): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let count = |k: &str| seen[k].as_u64().unwrap_or_default() as usize;
    (
        seen["status"].as_i64().unwrap_or_default(),
        count("brought"),
        count("held"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_asking_for_deltas_gets_only_new_entries_and_ends_with_every_entry_once() {
    let server = TestServer::start().await;
    server.serve("/b.rss", Route::ok(backdated_items(3)));
    let config = ConfigBuilder::new()
        .feeds(&[("b", &server.url("/b.rss"), &[])])
        .tables("[[output]]\nname = \"all\"\nlimit = 500\n")
        .write();
    let (base, _stop) = serve_outputs(&config.load()).await;
    let dir = tempfile::tempdir().expect("dir");
    // feedparser reads Atom and RSS (not JSON Feed); the JSON delta is checked below by hand.
    for format in ["atom", "rss"] {
        let state = dir.path().join(format!("{format}.json"));
        let url = format!("{base}/feeds/all.{format}");
        let mut statuses = Vec::new();
        for round in 1..=4 {
            // Each round the feed has three more stories (the formats' rounds follow on).
            let total = 3 * (round + 4 * usize::from(format == "rss"));
            server.serve("/b.rss", Route::ok(backdated_items(total)));
            let polled = run_feedsift("poll", &config.path, &["--all"]).await;
            assert_eq!(polled.code, Some(0), "{}", polled.stderr);
            // The poll is another process: its items are served within 100 ms, not at once.
            tokio::time::sleep(SERVED_WITHIN).await;
            let (status, brought, held) = delta_reader(&state, &url).await;
            statuses.push(status);
            assert_eq!(
                held, total,
                "{format} round {round}: the reader holds every entry once"
            );
            if status == 226 {
                assert_eq!(brought, 3, "{format} round {round}: only the new entries");
            }
        }
        assert_eq!(statuses[0], 200, "{format}: the first poll gets it whole");
        assert!(
            statuses[1..].iter().all(|s| *s == 226),
            "{format}: {statuses:?}"
        );
        let (status, brought, _) = delta_reader(&state, &url).await;
        assert_eq!((status, brought), (304, 0), "{format}: nothing new is 304");
    }

    let url = format!("{base}/feeds/all.json");
    let whole = reqwest::get(&url).await.expect("GET");
    let etag = whole.headers()["etag"].to_str().expect("etag").to_string();
    server.serve("/b.rss", Route::ok(backdated_items(27)));
    let polled = run_feedsift("poll", &config.path, &["--all"]).await;
    assert_eq!(polled.code, Some(0), "{}", polled.stderr);
    tokio::time::sleep(SERVED_WITHIN).await;
    let delta = reqwest::Client::new()
        .get(&url)
        .header("A-IM", "feed")
        .header("If-None-Match", &etag)
        .send()
        .await
        .expect("GET");
    assert_eq!(delta.status().as_u16(), 226);
    assert_eq!(delta.headers()["im"], "feed");
    let json: serde_json::Value =
        serde_json::from_str(&delta.text().await.expect("body")).expect("JSON Feed");
    let titles: Vec<&str> = json["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["title"].as_str())
        .collect();
    assert_eq!(
        titles,
        [
            "Backdated story 24",
            "Backdated story 25",
            "Backdated story 26"
        ],
        "exactly the new entries"
    );
}
