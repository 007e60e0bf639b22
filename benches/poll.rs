//! Polling benchmark: the real `feedsift poll --all` against 1,000 loopback feeds of 50 items
//! each, cold (empty database) and then warm (every feed answers 304). Reports wall time,
//! CPU time and peak RSS of the feedsift process, measured by GNU time.
//!
//! Run: `cargo bench --bench poll` (needs /usr/bin/time; `-- N` for N feeds).

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use support::{Rng, word};

/// Loopback addresses the feeds are spread over (each one a "host" to feedsift).
const HOSTS: usize = 20;
const ITEMS: usize = 50;

type Docs = Arc<HashMap<String, (String, Vec<u8>)>>;

#[tokio::main]
async fn main() {
    let feeds: usize = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(1000);
    let mut rng = Rng::new(11);
    let mut docs = HashMap::new();
    let mut total_bytes = 0;
    for f in 0..feeds {
        let doc = document(f, &mut rng);
        total_bytes += doc.len();
        docs.insert(
            format!("/feed{f}.xml"),
            (format!("\"v{f}\""), doc.into_bytes()),
        );
    }
    let docs: Docs = Arc::new(docs);
    let mut addrs = Vec::new();
    for h in 0..HOSTS {
        let listener = tokio::net::TcpListener::bind(format!("127.0.1.{}:0", h + 1))
            .await
            .expect("bind loopback");
        addrs.push(listener.local_addr().expect("addr"));
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(docs.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = String::from(
        "[fetch]\nconcurrency = 16\nper_host = 4\nper_host_delay = \"1ms\"\n\n[server]\nlisten = \"127.0.0.1:0\"\n\n",
    );
    for f in 0..feeds {
        let addr = addrs[f % HOSTS];
        config.push_str(&format!(
            "[[feed]]\nname = \"feed{f}\"\nurl = \"http://{addr}/feed{f}.xml\"\n"
        ));
    }
    let path = dir.path().join("feedsift.toml");
    std::fs::write(&path, config).expect("config");
    println!(
        "{feeds} feeds, {ITEMS} items each, {:.1} MB of feed XML over {HOSTS} loopback hosts",
        total_bytes as f64 / 1e6
    );
    for round in ["cold", "warm"] {
        let polled = support::timed_poll(&path).await;
        println!("{round}: {} | {}", polled.summary, polled.timing);
    }
}

async fn answer(State(docs): State<Docs>, request: Request) -> Response {
    let Some((etag, body)) = docs.get(request.uri().path()) else {
        return status(StatusCode::NOT_FOUND);
    };
    let matches = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    if matches {
        return status(StatusCode::NOT_MODIFIED);
    }
    Response::builder()
        .header(header::CONTENT_TYPE, "application/rss+xml")
        .header(header::ETAG, etag.as_str())
        .body(Body::from(body.clone()))
        .expect("valid response")
}

fn status(code: StatusCode) -> Response {
    Response::builder()
        .status(code)
        .body(Body::empty())
        .expect("valid response")
}

fn document(f: usize, rng: &mut Rng) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Feed {f}</title><link>https://site{f}.example/</link><description>d</description>\n"
    );
    for i in 0..ITEMS {
        let words: Vec<String> = (0..60).map(|_| word(rng.skewed(5000))).collect();
        xml.push_str(&format!(
            "<item><title>Story {f}-{i} {}</title><link>https://site{f}.example/{i}</link><guid>s{f}-{i}</guid>\
             <pubDate>Mon, 02 Jan 2023 10:{:02}:00 GMT</pubDate><description><![CDATA[<p>{}</p><p>#{} #{}</p>]]></description></item>\n",
            word(rng.below(2000)),
            i % 60,
            words.join(" "),
            word(rng.skewed(10_000)),
            word(rng.skewed(10_000))
        ));
    }
    xml.push_str("</channel></rss>\n");
    xml
}
