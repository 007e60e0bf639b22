//! WebSub delivery benchmark: one output with 1,000 subscribers (`-- N` for N) on a loopback
//! receiver changes; reports the time until the last delivery, deliveries received, and the
//! process's peak RSS (VmHWM).
//!
//! Run: `cargo bench --bench websub` (or `-- 5000`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use feedsift::config::Config;
use feedsift::hub::Hub;
use feedsift::store::Store;

#[tokio::main]
async fn main() {
    let subscribers: usize = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(1000);
    let received = Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    let app = axum::Router::new().route(
        "/cb/{n}",
        axum::routing::post(move |body: axum::body::Bytes| {
            let counter = counter.clone();
            async move {
                if !body.is_empty() {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let receiver = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("feedsift.toml");
    std::fs::write(
        &path,
        "[fetch]\nallow_private = true\n\n[[output]]\nname = \"all\"\n",
    )
    .expect("config");
    let config = Arc::new(Config::load(&path).expect("config"));
    let store = Store::open(&config.storage.path).expect("store");
    add_stories(&store, 50);
    let topic = format!("{}feeds/all.atom", config.server.base_url);
    let lease = chrono::Utc::now() + chrono::Duration::days(1);
    for n in 0..subscribers {
        let callback = format!("http://{receiver}/cb/{n}");
        store
            .subscribe(&topic, &callback, Some("secret"), lease)
            .expect("subscribe");
        // As if an earlier version had been delivered: this pass delivers the current one.
        store
            .record_delivery(&topic, &callback, "an earlier version", None)
            .expect("record");
    }
    let hub = Hub::new();
    let started = Instant::now();
    hub.deliver_changes(&store, &config, chrono::Utc::now())
        .await;
    let elapsed = started.elapsed();
    println!(
        "{subscribers} subscribers: {} deliveries, last one after {:.2} s; peak RSS {} KiB",
        received.load(Ordering::Relaxed),
        elapsed.as_secs_f64(),
        peak_rss_kib()
    );
}

/// `count` stories of about 5 KB of HTML each, as the output's entries.
fn add_stories(store: &Store, count: usize) {
    let spec = feedsift::store::FeedSpec {
        name: "f".into(),
        url: "https://f.example/feed".into(),
        tags: Vec::new(),
    };
    store.sync_feeds(&[spec]).expect("sync");
    let paragraph =
        "<p>A paragraph of a story, long enough to be realistic in a feed. </p>".repeat(70);
    let parsed = feedsift::model::ParsedFeed {
        items: (0..count)
            .map(|i| feedsift::model::ParsedItem {
                guid: Some(format!("s-{i}")),
                title: Some(format!("Story {i}")),
                link: Some(format!("https://f.example/{i}")),
                content: Some(format!("{paragraph}<p>Story {i}.</p>")),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let items = feedsift::process::process_feed(&parsed, None).items;
    let write = feedsift::model::PollWrite {
        name: "f".into(),
        outcome: feedsift::model::PollOutcome::NotModified,
        items,
        now: chrono::Utc::now(),
        next_poll: chrono::Utc::now(),
        near_window: None,
        full_text: false,
    };
    for written in store.record_polls(&[write]).expect("record") {
        written.expect("written");
    }
}

/// The process's peak resident set (`VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
