//! Messy real-world documents end to end: fetched over loopback, decoded, repaired where
//! needed, stored, shown with their repairs, and republished with correct text and dates.

use crate::support::{
    Route, TestConfig, TestServer, feeds_toml, fixture, get_text, run_feedsift, serve_outputs,
};

#[tokio::test]
async fn repaired_and_mislabelled_feeds_are_read_and_their_repairs_shown() {
    let server = TestServer::start().await;
    server.serve("/cut.xml", Route::ok(fixture("formats/truncated.xml")));
    server.serve(
        "/w.xml",
        Route::ok(fixture("formats/windows1252_labelled_utf8.xml"))
            .with_content_type("application/rss+xml; charset=UTF-8"),
    );
    let (koi8, _, _) = encoding_rs::KOI8_R.encode(
        "<rss version=\"2.0\"><channel><title>k</title><item><guid>k-1</guid>\
         <title>Привет из KOI8-R</title><link>https://k.example/1</link></item></channel></rss>",
    );
    server.serve(
        "/k.xml",
        Route::ok(koi8.into_owned()).with_content_type("text/xml; charset=\"koi8-r\""),
    );
    server.serve("/dates.xml", Route::ok(fixture("formats/dates.xml")));
    let config = TestConfig::write(&format!(
        "[fetch]\nper_host_delay = \"1ms\"\n\n{}[[output]]\nname = \"all\"\nfilter = \"feed:cut or feed:w or feed:k or feed:dates\"\n",
        feeds_toml(&[
            ("cut", &server.url("/cut.xml"), &[]),
            ("w", &server.url("/w.xml"), &[]),
            ("k", &server.url("/k.xml"), &[]),
            ("dates", &server.url("/dates.xml"), &[]),
        ])
    ));
    let polled = run_feedsift("poll", &config.path, &["--all"]).await;
    assert_eq!(polled.code, Some(0), "{}", polled.stderr);

    let feeds = run_feedsift("feeds", &config.path, &[]).await;
    let lines: Vec<&str> = feeds.stdout.lines().collect();
    let note_after = |feed: &str| {
        let at = lines
            .iter()
            .position(|l| l.starts_with(feed))
            .unwrap_or_else(|| panic!("{feed} in {}", feeds.stdout));
        lines.get(at + 1).copied().unwrap_or("")
    };
    assert!(
        note_after("cut").ends_with("parsed with repairs: unclosed elements"),
        "{}",
        feeds.stdout
    );
    assert!(
        note_after("w ").ends_with("parsed with repairs: not valid UTF-8, read as windows-1252"),
        "{}",
        feeds.stdout
    );
    assert_eq!(
        feeds.stdout.matches("repairs: ").count(),
        2,
        "{}",
        feeds.stdout
    );

    let (base, _stop) = serve_outputs(&config.load()).await;
    let body = get_text(&format!("{base}/feeds/all.json")).await;
    let json: serde_json::Value = serde_json::from_str(&body).expect("JSON Feed");
    let items = json["items"].as_array().expect("items");
    let item = |title: &str| {
        items
            .iter()
            .find(|i| i["title"] == title)
            .unwrap_or_else(|| panic!("{title} in {body}"))
    };
    item("Café – “smart quotes” €5");
    item("Привет из KOI8-R");
    item("Cut off");
    assert_eq!(item("slash")["date_published"], "2024-01-05T14:05:00+00:00");
    assert_eq!(
        item("dcterms")["date_published"],
        "2024-01-05T14:05:00+00:00"
    );
    assert!(item("none").get("date_published").is_none(), "{body}");
    let clamped = item("far future")["date_published"]
        .as_str()
        .expect("a date");
    assert!(clamped < "2100", "{clamped}");
}
