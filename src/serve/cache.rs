//! Rendered documents, kept until the database changes, with their validators and
//! compressed forms, so a reader polling an unchanged feed costs a lookup and a 304.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE,
    IF_NONE_MATCH, LAST_MODIFIED, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;

/// Documents kept at most, and bytes they may hold; beyond either the cache starts afresh
/// (searches make many keys; an output's document is up to a few hundred KB).
const MAX_ENTRIES: usize = 512;
const MAX_BYTES: usize = 16 << 20;

/// One rendered document and what HTTP needs to know about it.
pub struct Rendered {
    /// The version it was rendered from (see `current`).
    version: i64,
    content_type: &'static str,
    body: Bytes,
    /// Strong, derived from the body: it changes when and only when the document does.
    etag: String,
    /// When the document's content last changed (see [`DocumentCache::changed_at`]).
    last_modified: Option<SystemTime>,
    gzip: OnceLock<Bytes>,
    brotli: OnceLock<Bytes>,
}

impl Rendered {
    pub fn new(version: i64, content_type: &'static str, body: String) -> Rendered {
        let digest = blake3::hash(body.as_bytes());
        let etag = format!("\"{}\"", &digest.to_hex()[..32]);
        Rendered {
            version,
            content_type,
            body: Bytes::from(body),
            etag,
            last_modified: None,
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
        }
    }

    /// The document stamped with when its content last changed.
    pub fn changed_at(mut self, at: SystemTime) -> Rendered {
        self.last_modified = Some(whole_seconds(at));
        self
    }

    /// Memory it may hold: its body, and at most as much again for its gzip and brotli forms
    /// (feeds compress to well under half).
    fn weight(&self) -> usize {
        2 * self.body.len()
    }

    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// RFC 3229 §10.4.1 `226 IM Used` with `IM: feed`: `body` holds only the entries added or
    /// changed since the version the client named; the tag is the whole current document's.
    pub fn delta(&self, body: String) -> Response {
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = StatusCode::IM_USED;
        let h = response.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        h.insert("im", HeaderValue::from_static("feed"));
        if let Ok(value) = HeaderValue::from_str(&self.etag) {
            h.insert(ETAG, value);
        }
        // A delta is for the one client that holds the version it was made from.
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(
            VARY,
            HeaderValue::from_static("Accept-Encoding, A-IM, If-None-Match"),
        );
        response
    }

    /// Compresses the body as a request with `headers` wants it, unless that is done.
    /// Blocking (brotli of a large document takes tens of milliseconds): callers on the async
    /// executor run it on the blocking pool, so that one compression does not hold up every
    /// other request of that worker thread.
    pub fn compress_for(&self, headers: &HeaderMap) {
        match Encoding::negotiate(headers) {
            Encoding::Identity => {}
            Encoding::Gzip => {
                self.gzip.get_or_init(|| gzip(&self.body));
            }
            Encoding::Brotli => {
                self.brotli.get_or_init(|| brotli(&self.body));
            }
        }
    }

    /// Whether [`Rendered::compress_for`] has nothing left to do for `headers`.
    pub fn ready_for(&self, headers: &HeaderMap) -> bool {
        match Encoding::negotiate(headers) {
            Encoding::Identity => true,
            Encoding::Gzip => self.gzip.get().is_some(),
            Encoding::Brotli => self.brotli.get().is_some(),
        }
    }

    /// The response to a request with `headers`: 304 when its validators match, else the
    /// body in the best encoding the client accepts.
    pub fn respond(&self, headers: &HeaderMap, max_age: Duration) -> Response {
        let encoding = Encoding::negotiate(headers);
        let etag = format!(
            "{}{}",
            self.etag.trim_end_matches('"'),
            encoding.etag_suffix()
        ) + "\"";
        let mut response = if self.not_modified(headers) {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::NOT_MODIFIED;
            r
        } else {
            let body = match encoding {
                Encoding::Identity => self.body.clone(),
                Encoding::Gzip => self.gzip.get_or_init(|| gzip(&self.body)).clone(),
                Encoding::Brotli => self.brotli.get_or_init(|| brotli(&self.body)).clone(),
            };
            let mut r = Response::new(Body::from(body));
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
            if let Some(name) = encoding.header() {
                r.headers_mut()
                    .insert(CONTENT_ENCODING, HeaderValue::from_static(name));
            }
            r
        };
        let h = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&etag) {
            h.insert(ETAG, value);
        }
        if let Some(value) = self
            .last_modified
            .and_then(|t| HeaderValue::from_str(&httpdate::fmt_http_date(t)).ok())
        {
            h.insert(LAST_MODIFIED, value);
        }
        if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={}", max_age.as_secs()))
        {
            h.insert(CACHE_CONTROL, value);
        }
        h.insert(VARY, HeaderValue::from_static("Accept-Encoding, A-IM"));
        response
    }

    /// RFC 9110 §13.1.2/§13.1.3: If-None-Match wins; If-Modified-Since only without it.
    fn not_modified(&self, headers: &HeaderMap) -> bool {
        if let Some(value) = headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
            return value
                .split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || self.same_entity(tag));
        }
        let since = headers
            .get(IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok());
        matches!((since, self.last_modified), (Some(since), Some(modified)) if modified <= since)
    }

    /// Whether a client's entity tag names this document in any of its encodings.
    fn same_entity(&self, tag: &str) -> bool {
        let tag = tag.trim_start_matches("W/").trim_matches('"');
        let base = self.etag.trim_matches('"');
        [Encoding::Identity, Encoding::Gzip, Encoding::Brotli]
            .iter()
            .any(|e| tag.strip_suffix(e.etag_suffix()) == Some(base))
    }
}

/// Rendered documents by request key, and when each document's content last changed.
#[derive(Default)]
pub struct DocumentCache {
    entries: Mutex<HashMap<String, Arc<Rendered>>>,
    changes: Mutex<HashMap<String, Change>>,
    /// Keys whose document is being rendered now.
    rendering: Mutex<HashSet<String>>,
    /// Told whenever a render ends.
    finished: tokio::sync::Notify,
}

/// A render under way for one key; the key is free again when it is dropped.
pub struct Rendering<'a> {
    cache: &'a DocumentCache,
    key: String,
}

impl Drop for Rendering<'_> {
    fn drop(&mut self) {
        let mut rendering = self
            .cache
            .rendering
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        rendering.remove(&self.key);
        drop(rendering);
        self.cache.finished.notify_waiters();
    }
}

/// A document's entity tag and the time it was first served with it.
struct Change {
    etag: String,
    at: SystemTime,
}

impl DocumentCache {
    /// The document for `key` if it was rendered from database version `version`.
    pub fn get(&self, key: &str, version: i64) -> Option<Arc<Rendered>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(key).filter(|r| r.version == version).cloned()
    }

    /// The document kept for `key`, whichever database version it was rendered from.
    fn latest(&self, key: &str) -> Option<Arc<Rendered>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(key).cloned()
    }

    /// Claims the render of `key`'s document; `None` while another request renders it.
    fn begin_render(&self, key: &str) -> Option<Rendering<'_>> {
        let mut rendering = self.rendering.lock().unwrap_or_else(|p| p.into_inner());
        rendering.insert(key.to_string()).then(|| Rendering {
            cache: self,
            key: key.to_string(),
        })
    }

    /// The document for `key` as of `version`: the one kept if it is that version's, else
    /// the one `render` makes (and keeps). While another request renders it, the document kept
    /// is served, one render behind, rather than queue a second render behind the first:
    /// during a cold poll the database changes several times a second, and 32 readers of one
    /// output each rendering it took p99 to hundreds of milliseconds. With nothing kept yet,
    /// the render under way is waited for (32 readers arriving together each rendered it, and
    /// the last waited for all the others).
    pub async fn get_or_render<F, E>(
        &self,
        key: &str,
        version: i64,
        render: impl FnOnce() -> F,
    ) -> Result<Arc<Rendered>, E>
    where
        F: Future<Output = Result<Arc<Rendered>, E>>,
    {
        loop {
            // Asked for before looking, so that a render ending meanwhile is not missed.
            let finished = self.finished.notified();
            if let Some(rendered) = self.get(key, version) {
                return Ok(rendered);
            }
            match (self.begin_render(key), self.latest(key)) {
                (None, Some(kept)) => return Ok(kept),
                (None, None) => finished.await,
                (claimed, _) => {
                    let rendered = render().await;
                    drop(claimed);
                    return rendered;
                }
            }
        }
    }

    /// Forgets every document (the config changed what they show).
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// When the document at `key` last changed, now that it has entity tag `etag`: the time
    /// it first had this tag, and strictly later (by whole seconds, as HTTP dates are) than the
    /// previous change. `Last-Modified` must move whenever the content does: libcurl-based
    /// readers (newsboat) send `If-Modified-Since` and drop a `200` whose date did not move,
    /// so a document's newest item date, which backdated items leave unmoved, will not do.
    /// A document seen for the first time (after a start, or once forgotten) changed `now`.
    pub fn changed_at(&self, key: &str, etag: &str, now: SystemTime) -> SystemTime {
        let mut changes = self.changes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(change) = changes.get(key).filter(|c| c.etag == etag) {
            return change.at;
        }
        let at = match changes.get(key) {
            Some(previous) => whole_seconds(now).max(previous.at + Duration::from_secs(1)),
            None => whole_seconds(now),
        };
        if changes.len() >= MAX_ENTRIES && !changes.contains_key(key) {
            changes.clear();
        }
        changes.insert(
            key.to_string(),
            Change {
                etag: etag.to_string(),
                at,
            },
        );
        at
    }

    /// Keeps `rendered` for `key`. When the cache would hold more than [`MAX_BYTES`] or
    /// [`MAX_ENTRIES`], documents of older database versions go first (they are served only
    /// while their key is being rendered again), then, if that is not enough, all of them.
    pub fn put(&self, key: String, rendered: Arc<Rendered>) {
        if rendered.weight() > MAX_BYTES {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(&key);
        let full = |entries: &HashMap<String, Arc<Rendered>>| {
            let held: usize = entries.values().map(|r| r.weight()).sum();
            entries.len() >= MAX_ENTRIES || held + rendered.weight() > MAX_BYTES
        };
        if full(&entries) {
            entries.retain(|_, r| r.version >= rendered.version);
        }
        if full(&entries) {
            entries.clear();
        }
        entries.insert(key, rendered);
    }

    /// What the cache holds now, in bytes as [`Rendered::weight`] counts them.
    #[cfg(test)]
    fn weight(&self) -> usize {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.values().map(|r| r.weight()).sum()
    }
}

/// An entity tag without weakness, quotes and encoding suffix: the document it names.
pub(super) fn base_tag(tag: &str) -> &str {
    let tag = tag.trim().trim_start_matches("W/").trim_matches('"');
    [Encoding::Gzip, Encoding::Brotli]
        .iter()
        .find_map(|e| tag.strip_suffix(e.etag_suffix()))
        .unwrap_or(tag)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    /// Brotli when accepted, else gzip, else none (`q=0` refuses a coding).
    fn negotiate(headers: &HeaderMap) -> Encoding {
        let accepted = |name: &str| {
            let values = headers
                .get_all(ACCEPT_ENCODING)
                .into_iter()
                .filter_map(|v| v.to_str().ok());
            values.flat_map(|v| v.split(',')).any(|part| {
                let mut fields = part.split(';').map(str::trim);
                let coding = fields.next().unwrap_or("");
                let q = fields
                    .find_map(|f| f.strip_prefix("q="))
                    .map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
                coding.eq_ignore_ascii_case(name) && q > 0.0
            })
        };
        if accepted("br") {
            Encoding::Brotli
        } else if accepted("gzip") {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }

    fn header(self) -> Option<&'static str> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some("gzip"),
            Encoding::Brotli => Some("br"),
        }
    }

    /// Each encoding is its own representation, so it gets its own strong tag.
    fn etag_suffix(self) -> &'static str {
        match self {
            Encoding::Identity => "",
            Encoding::Gzip => "-gz",
            Encoding::Brotli => "-br",
        }
    }
}

fn gzip(body: &[u8]) -> Bytes {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(body);
    Bytes::from(encoder.finish().unwrap_or_default())
}

fn brotli(body: &[u8]) -> Bytes {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 9,
        ..Default::default()
    };
    let _ = brotli::BrotliCompress(&mut &body[..], &mut out, &params);
    Bytes::from(out)
}

/// HTTP dates have whole seconds; comparing If-Modified-Since needs the same precision.
fn whole_seconds(t: SystemTime) -> SystemTime {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

#[cfg(test)]
pub(super) mod tests;
