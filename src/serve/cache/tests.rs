use super::*;

/// Request headers from (name, value) pairs.
pub(in crate::serve) fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (name, value) in pairs {
        h.insert(*name, HeaderValue::from_str(value).expect("valid header"));
    }
    h
}

#[test]
fn encodings_are_negotiated_with_q_values() {
    for (accepted, expected) in [
        ("gzip, deflate, br", Encoding::Brotli),
        ("gzip", Encoding::Gzip),
        ("br;q=0, gzip;q=0.5", Encoding::Gzip),
        ("gzip;q=0", Encoding::Identity),
    ] {
        let negotiated = Encoding::negotiate(&headers(&[("accept-encoding", accepted)]));
        assert_eq!(negotiated, expected, "{accepted}");
    }
    assert_eq!(Encoding::negotiate(&headers(&[])), Encoding::Identity);
}

#[test]
fn every_encodings_tag_matches_the_document() {
    let r = Rendered::new(1, "text/plain", "body".into());
    let base = r.etag.trim_matches('"').to_string();
    assert!(r.same_entity(&format!("\"{base}\"")));
    assert!(r.same_entity(&format!("\"{base}-gz\"")));
    assert!(r.same_entity(&format!("W/\"{base}-br\"")));
    assert!(!r.same_entity("\"other\""));
}

#[test]
fn compressed_bodies_decompress_to_the_original() {
    use std::io::Read as _;
    let body = "<feed>".repeat(1000);
    let mut out = String::new();
    flate2::read::GzDecoder::new(&gzip(body.as_bytes())[..])
        .read_to_string(&mut out)
        .expect("gunzip");
    assert_eq!(out, body);
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &brotli(body.as_bytes())[..], &mut out).expect("unbrotli");
    assert_eq!(out, body.as_bytes());
}

#[test]
fn last_modified_moves_exactly_when_the_content_does_and_always_forward() {
    let cache = DocumentCache::default();
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let first = cache.changed_at("feeds/all.atom?50&", "\"a\"", t0);
    assert_eq!(first, t0);
    let later = t0 + Duration::from_secs(600);
    assert_eq!(
        cache.changed_at("feeds/all.atom?50&", "\"a\"", later),
        t0,
        "unchanged"
    );
    let same_second = t0 + Duration::from_millis(300);
    let changed = cache.changed_at("feeds/all.atom?50&", "\"b\"", same_second);
    assert!(
        changed > first,
        "strictly later even within the same second"
    );

    // A reader that saw the first version asks If-Modified-Since it: the new one is sent.
    let seen = headers(&[("if-modified-since", &httpdate::fmt_http_date(first))]);
    let doc = Rendered::new(2, "text/plain", "b".into()).changed_at(changed);
    assert_eq!(doc.respond(&seen, Duration::ZERO).status(), StatusCode::OK);
    let current = headers(&[("if-modified-since", &httpdate::fmt_http_date(changed))]);
    assert_eq!(
        doc.respond(&current, Duration::ZERO).status(),
        StatusCode::NOT_MODIFIED
    );
}

#[test]
fn the_cache_holds_current_documents_within_its_byte_bound() {
    let cache = DocumentCache::default();
    let document =
        |version, kb: usize| Arc::new(Rendered::new(version, "text/xml", "x".repeat(kb << 10)));
    cache.put("a".into(), document(1, 100));
    cache.put("b".into(), document(1, 100));
    assert!(cache.get("a", 1).is_some() && cache.get("b", 1).is_some());
    // The database changed: "a" is rendered again, "b" is kept as it was.
    cache.put("a".into(), document(2, 100));
    assert!(cache.get("a", 1).is_none() && cache.get("a", 2).is_some());
    assert!(cache.get("b", 2).is_none() && cache.latest("b").is_some());
    assert_eq!(cache.weight(), 400 << 10);
    // Many large documents (searches) never hold more than the bound; the older
    // version's go first.
    cache.put("c".into(), document(2, (MAX_BYTES >> 11) - 150));
    assert!(cache.latest("b").is_none() && cache.get("a", 2).is_some());
    for n in 0..200 {
        cache.put(format!("search{n}"), document(2, 300));
        assert!(cache.weight() <= MAX_BYTES, "{} bytes", cache.weight());
        assert!(cache.get(&format!("search{n}"), 2).is_some());
    }
    // A document over the bound on its own is served but not kept.
    cache.put("huge".into(), document(2, (MAX_BYTES >> 10) + 1));
    assert!(cache.get("huge", 2).is_none());
}

#[test]
fn one_render_per_key_at_a_time() {
    let cache = DocumentCache::default();
    let first = cache.begin_render("feed");
    assert!(first.is_some());
    assert!(cache.begin_render("feed").is_none(), "under way");
    assert!(cache.begin_render("other").is_some(), "another key is free");
    drop(first);
    assert!(cache.begin_render("feed").is_some(), "free again once done");
}

/// Requests for `key` at `version` arriving together, each rendering with `body` if it has
/// to; how many rendered, and what each got.
async fn requests_together(
    cache: &Arc<DocumentCache>,
    key: &'static str,
    version: i64,
    body: &'static str,
) -> (usize, Vec<Arc<Rendered>>) {
    let renders = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let requests: Vec<_> = (0..32)
        .map(|_| {
            let (cache, renders) = (cache.clone(), renders.clone());
            tokio::spawn(async move {
                cache
                    .get_or_render(key, version, || async {
                        renders.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        let rendered = Arc::new(Rendered::new(version, "text/plain", body.into()));
                        cache.put(key.into(), rendered.clone());
                        Ok::<_, ()>(rendered)
                    })
                    .await
                    .expect("rendered")
            })
        })
        .collect();
    let mut got = Vec::new();
    for request in requests {
        got.push(request.await.expect("task"));
    }
    (renders.load(std::sync::atomic::Ordering::SeqCst), got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_arriving_together_share_one_render() {
    let cache = Arc::new(DocumentCache::default());
    // Nothing kept yet: all wait for the first render.
    let (renders, got) = requests_together(&cache, "feed", 1, "first").await;
    assert_eq!(renders, 1);
    assert!(got.iter().all(|r| r.body == "first"));
    // A new version: one renders it, the others are served the document kept meanwhile.
    let (renders, got) = requests_together(&cache, "feed", 2, "second").await;
    assert_eq!(renders, 1);
    assert!(got.iter().all(|r| r.body == "first" || r.body == "second"));
    assert!(got.iter().any(|r| r.body == "second"));
    assert_eq!(
        cache.get("feed", 2).map(|r| r.body.clone()),
        Some("second".into())
    );
}
