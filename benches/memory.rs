//! Memory under hostile feeds: the real `feedsift poll --all` against loopback feeds that
//! each send a document just under `max_body`, built to cost the most memory per byte:
//! huge items that need repair, a flood of tiny items, windows-1252 that grows when decoded
//! to UTF-8, UTF-16, deep nesting, a gzip bomb. Reports peak RSS (GNU time) against the
//! bound stated in the README: 25 MiB + (concurrency + 5 × parsers) × max_body, where parsers
//! = min(concurrency, cores).
//!
//! Run: `cargo bench --bench memory` (needs /usr/bin/time; `-- C M` for concurrency C and
//! max_body M MiB; default 4 and 8).

mod support;

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::Response;

type Docs = Arc<HashMap<String, (Vec<u8>, Option<&'static str>)>>;

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args().filter_map(|a| a.parse().ok()).collect();
    let concurrency = args.first().copied().unwrap_or(4);
    let max_body_mib = args.get(1).copied().unwrap_or(8);
    let max_body = max_body_mib << 20;
    let kinds = kinds(max_body - 4096);
    let mut docs = HashMap::new();
    for copy in 0..concurrency {
        for (name, body, encoding) in &kinds {
            docs.insert(format!("/{name}{copy}"), (body.clone(), *encoding));
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new()
        .fallback(answer)
        .with_state(Arc::new(docs));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let parsers = concurrency.min(cores);
    let bound = 25 + (concurrency + 5 * parsers) * max_body_mib;
    println!(
        "{concurrency} feeds of each kind polled together, each document ~{max_body_mib} MiB, \
         {parsers} parsed at once; stated bound 25 MiB + ({concurrency} + 5 × {parsers}) × \
         {max_body_mib} MiB = {bound} MiB"
    );
    for (kind, _, _) in &kinds {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = format!(
            "[fetch]\nconcurrency = {concurrency}\nper_host = {concurrency}\nper_host_delay = \"1ms\"\n\
             max_body = \"{max_body_mib}MiB\"\ntimeout = \"120s\"\n\n"
        );
        for copy in 0..concurrency {
            config.push_str(&format!(
                "[[feed]]\nname = \"f{copy}\"\nurl = \"http://{addr}/{kind}{copy}\"\n"
            ));
        }
        let path = dir.path().join("feedsift.toml");
        std::fs::write(&path, config).expect("config");
        let polled = support::timed_poll(&path).await;
        println!(
            "{kind:<12} {:<70} {} → {}",
            polled.summary,
            polled.timing,
            if polled.peak_rss_mib <= bound as f64 {
                "within"
            } else {
                "EXCEEDS"
            }
        );
    }
}

/// (name, body, Content-Encoding) of each costly kind of document, about `size` bytes.
fn kinds(size: usize) -> Vec<(&'static str, Vec<u8>, Option<&'static str>)> {
    let wrap = |items: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>t</title>{items}</channel></rss>"
        )
    };
    let per_item = size / 2000;
    let big_items: String = (0..2000)
        .map(|i| {
            let text = "caf&eacute;&nbsp;".repeat(per_item / 17 - 10);
            format!("<item><guid>{i}</guid><description>{text}</description></item>")
        })
        .collect();
    let tiny: String = (0..size / 34)
        .map(|i| format!("<item><guid>{i}</guid></item>"))
        .collect();
    let euro = {
        let mut bytes = wrap("<item><guid>e</guid><title>").into_bytes();
        bytes.truncate(bytes.len() - "</channel></rss>".len());
        // Each 0x80 becomes three bytes of UTF-8 ("€"): just under the limit once decoded.
        bytes.resize(size / 3 - 40, 0x80);
        bytes.extend_from_slice(b"</title></item></channel></rss>");
        bytes
    };
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(
        wrap(&format!(
            "<item><guid>u</guid><title>{}</title></item>",
            "a".repeat(size / 2 - 200)
        ))
        .replace("utf-8", "utf-16")
        .encode_utf16()
        .flat_map(u16::to_le_bytes),
    );
    let depth = size / 11 - 100;
    let deep = wrap(&format!(
        "<item><guid>d</guid><description>{}</description></item>",
        "&lt;div&gt;".repeat(depth)
    ));
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(wrap("<item><title>").as_bytes())
        .expect("gzip");
    for _ in 0..64 {
        gzip.write_all(&vec![b'a'; size]).expect("gzip");
    }
    let bomb = gzip.finish().expect("gzip");
    vec![
        ("big_items", wrap(&big_items).into_bytes(), None),
        ("tiny_items", wrap(&tiny).into_bytes(), None),
        ("windows1252", euro, None),
        ("utf16", utf16, None),
        ("deep", deep.into_bytes(), None),
        ("gzip_bomb", bomb, Some("gzip")),
    ]
}

async fn answer(State(docs): State<Docs>, request: Request) -> Response {
    let (body, encoding) = docs.get(request.uri().path()).cloned().unwrap_or_default();
    let mut response = Response::builder().header(header::CONTENT_TYPE, "application/rss+xml");
    if let Some(encoding) = encoding {
        response = response.header(header::CONTENT_ENCODING, encoding);
    }
    response.body(Body::from(body)).expect("valid response")
}
