//! The WebSub hub: a subscriber on loopback subscribes, answers the challenge, receives a
//! signed delivery after a poll adds an entry, and is dropped after its lease; bad requests
//! get the right 4xx and leave no state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;

use crate::support::{ConfigBuilder, InProcess, Route, TestServer, fixture, run_feedsift};

/// What a subscriber saw: the verifications it answered and the deliveries it received.
#[derive(Clone, Default)]
struct Seen {
    verifications: Arc<Mutex<Vec<HashMap<String, String>>>>,
    deliveries: Arc<Mutex<Vec<(HeaderMap, String)>>>,
}

/// A subscriber's callback on loopback; `echo` says whether it confirms its intent.
async fn subscriber(echo: bool) -> (String, Seen) {
    let seen = Seen::default();
    let verify = move |State(seen): State<Seen>, Query(q): Query<HashMap<String, String>>| async move {
        let challenge = q.get("hub.challenge").cloned().unwrap_or_default();
        seen.verifications.lock().expect("lock").push(q);
        if echo { challenge } else { "no".to_string() }
    };
    let receive = |State(seen): State<Seen>, headers: HeaderMap, body: String| async move {
        seen.deliveries.lock().expect("lock").push((headers, body));
        "thanks"
    };
    let app = axum::Router::new()
        .route("/cb", axum::routing::get(verify).post(receive))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/cb", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

async fn post_form(url: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// Waits up to 15 s for `check`.
async fn eventually(what: &str, check: impl Fn() -> bool) {
    for _ in 0..300 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen");
}

fn subscriptions(db: &std::path::Path) -> Vec<feedsift::store::Subscription> {
    let store = feedsift::store::Store::open(db).expect("store");
    store.subscriptions().expect("subscriptions")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_is_verified_gets_signed_changes_and_is_dropped_after_its_lease() {
    let server = TestServer::start().await;
    server.serve("/vb.rss", Route::ok(fixture("openai_story.rss")));
    server.serve("/hub", Route::ok("ok"));
    let config = ConfigBuilder::new()
        .fetch("allow_private", "true")
        .set("server", "hubs", &format!("[\"{}\"]", server.url("/hub")))
        .feeds(&[("vb", &server.url("/vb.rss"), &[])])
        .tables("[[output]]\nname = \"all\"\n")
        .write();
    let polled = run_feedsift("poll", &config.path, &["--all"]).await;
    assert_eq!(polled.code, Some(0), "{}", polled.stderr);
    let loaded = config.load();
    let db = loaded.storage.path.clone();
    let topic = format!("{}feeds/all.atom", loaded.server.base_url);
    let daemon = InProcess::start(&config.path).await;
    let hub = daemon.url("/websub");

    let atom = crate::support::get_text(&daemon.url("/feeds/all.atom")).await;
    assert!(
        atom.contains(&format!(
            "href=\"{}websub\" rel=\"hub\"",
            loaded.server.base_url
        )),
        "{atom}"
    );

    let (callback, seen) = subscriber(true).await;
    let (status, body) = post_form(
        &hub,
        &[
            ("hub.mode", "subscribe"),
            ("hub.topic", &topic),
            ("hub.callback", &callback),
            ("hub.secret", "s3cret"),
            ("hub.lease_seconds", "600"),
        ],
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let verification = seen.verifications.lock().expect("lock")[0].clone();
    assert_eq!(verification["hub.mode"], "subscribe");
    assert_eq!(verification["hub.topic"], topic);
    assert_eq!(verification["hub.lease_seconds"], "600");
    // The hub takes the document as it is when the subscription starts.
    eventually("the first look at the topic", || {
        subscriptions(&db).iter().all(|s| s.delivered.is_some())
    })
    .await;

    // A second subscriber whose lease ends at once.
    let (short, short_seen) = subscriber(true).await;
    let (status, _) = post_form(
        &hub,
        &[
            ("hub.mode", "subscribe"),
            ("hub.topic", &topic),
            ("hub.callback", &short),
            ("hub.lease_seconds", "1"),
        ],
    )
    .await;
    assert_eq!(status, 202);
    // Until its lease has ended by the clock the hub reads (seconds, as stored), however
    // late a loaded machine recorded it.
    eventually("the short subscription is recorded", || {
        subscriptions(&db).iter().any(|s| s.callback == short)
    })
    .await;
    let lease_until = subscriptions(&db)
        .into_iter()
        .find(|s| s.callback == short)
        .map(|s| s.lease_until)
        .expect("recorded");
    let ended = (lease_until - chrono::Utc::now()).num_milliseconds() + 1500;
    tokio::time::sleep(Duration::from_millis(u64::try_from(ended).unwrap_or(0))).await;

    let updated = String::from_utf8(fixture("openai_story.rss"))
        .expect("utf-8")
        .replace(
            "</channel>",
            "<item><guid>vb-2000</guid><title>Pushed story</title><link>https://venturebeat.example/pushed</link>\
             <description>A story the hub pushes to its subscribers.</description></item></channel>",
        );
    server.serve("/vb.rss", Route::ok(updated));
    let polled = run_feedsift("poll", &config.path, &["--all"]).await;
    assert_eq!(polled.code, Some(0), "{}", polled.stderr);
    eventually("a delivery", || {
        !seen.deliveries.lock().expect("lock").is_empty()
    })
    .await;
    let (headers, body) = seen.deliveries.lock().expect("lock")[0].clone();
    assert!(body.contains("Pushed story"), "{body}");
    assert_eq!(
        headers["x-hub-signature"].to_str().expect("ascii"),
        feedsift::hub::signature("s3cret", body.as_bytes())
    );
    assert!(
        headers["link"]
            .to_str()
            .expect("ascii")
            .contains("rel=\"hub\"")
    );
    assert!(
        short_seen.deliveries.lock().expect("lock").is_empty(),
        "its lease ended"
    );
    eventually("the external hub is told", || {
        !server.requests("/hub").is_empty()
    })
    .await;
    assert_eq!(
        server.requests("/hub")[0]["content-type"],
        "application/x-www-form-urlencoded"
    );
    let left: Vec<String> = subscriptions(&db).into_iter().map(|s| s.callback).collect();
    assert_eq!(
        left,
        std::slice::from_ref(&callback),
        "the ended lease is dropped"
    );

    // Bad requests change nothing.
    let (silent, _) = subscriber(false).await;
    let long_secret = "x".repeat(300);
    for (fields, expected) in [
        (
            vec![
                ("hub.mode", "subscribe"),
                ("hub.topic", "http://elsewhere.example/feed"),
                ("hub.callback", callback.as_str()),
            ],
            400,
        ),
        (
            vec![
                ("hub.mode", "subscribe"),
                ("hub.topic", topic.as_str()),
                ("hub.callback", silent.as_str()),
            ],
            403,
        ),
        (
            vec![
                ("hub.mode", "subscribe"),
                ("hub.topic", topic.as_str()),
                ("hub.callback", callback.as_str()),
                ("hub.secret", long_secret.as_str()),
            ],
            413,
        ),
        (
            vec![
                ("hub.mode", "publish"),
                ("hub.topic", topic.as_str()),
                ("hub.callback", callback.as_str()),
            ],
            400,
        ),
        (
            vec![
                ("hub.mode", "subscribe"),
                ("hub.topic", topic.as_str()),
                ("hub.callback", "javascript:alert(1)"),
            ],
            400,
        ),
    ] {
        let (status, body) = post_form(&hub, &fields).await;
        assert_eq!(status, expected, "{fields:?}: {body}");
    }
    assert_eq!(subscriptions(&db).len(), 1);

    // Unsubscribing is verified too, and ends the subscription.
    let (status, _) = post_form(
        &hub,
        &[
            ("hub.mode", "unsubscribe"),
            ("hub.topic", &topic),
            ("hub.callback", &callback),
        ],
    )
    .await;
    assert_eq!(status, 202);
    assert!(subscriptions(&db).is_empty());
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_on_a_private_address_needs_allow_private() {
    let config = ConfigBuilder::new()
        .tables("[[output]]\nname = \"all\"\n")
        .write();
    let loaded = config.load();
    let daemon = InProcess::start(&config.path).await;
    let (callback, seen) = subscriber(true).await;
    let topic = format!("{}feeds/all.json", loaded.server.base_url);
    let (status, body) = post_form(
        &daemon.url("/websub"),
        &[
            ("hub.mode", "subscribe"),
            ("hub.topic", &topic),
            ("hub.callback", &callback),
        ],
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        seen.verifications.lock().expect("lock").is_empty(),
        "never called"
    );
    assert!(subscriptions(&loaded.storage.path).is_empty());
    daemon.stop().await;
}
