//! RFC 3229 deltas (`A-IM: feed`): the last versions of each document, by its entries, so a
//! reader holding one of them can be sent only what was added or changed since.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use axum::http::HeaderMap;
use axum::http::header::IF_NONE_MATCH;

use super::cache::base_tag;

/// Documents whose versions are kept at most; beyond that the record starts afresh. A version
/// of a 50-entry document is ~4 KB (entry ids and times), so the record holds ≤ 4 MiB.
const MAX_DOCUMENTS: usize = 64;
/// Versions of one document kept; a client holding an older one gets it whole.
const KEPT_VERSIONS: usize = 16;

/// One version of a document: its entity tag and its entries (entry id → updated time).
struct Version {
    etag: String,
    entries: HashMap<String, i64>,
}

/// The kept versions of every document, by request key.
#[derive(Default)]
pub struct Versions(Mutex<HashMap<String, VecDeque<Version>>>);

impl Versions {
    /// Remembers that the document at `key` had `entries` when its tag was `etag`.
    pub fn remember(&self, key: &str, etag: &str, entries: HashMap<String, i64>) {
        let mut versions = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if versions.len() >= MAX_DOCUMENTS && !versions.contains_key(key) {
            versions.clear();
        }
        let kept = versions.entry(key.to_string()).or_default();
        if kept.back().is_some_and(|v| v.etag == etag) {
            return;
        }
        if kept.len() >= KEPT_VERSIONS {
            kept.pop_front();
        }
        kept.push_back(Version {
            etag: etag.to_string(),
            entries,
        });
    }

    /// RFC 3229 with `A-IM: feed`: when the request asks for a delta from a kept version of
    /// the document at `key` other than the current one (tagged `current_etag`, remembered
    /// when it was rendered), the ids of the entries added or changed since that version.
    /// `None` means "send it whole".
    pub fn delta_since(
        &self,
        key: &str,
        headers: &HeaderMap,
        current_etag: &str,
    ) -> Option<Vec<String>> {
        let wants_feed = headers
            .get_all("a-im")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|im| {
                im.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("feed"))
            });
        if !wants_feed {
            return None;
        }
        let held = headers
            .get(IF_NONE_MATCH)?
            .to_str()
            .ok()?
            .split(',')
            .map(base_tag);
        let versions = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let kept = versions.get(key)?;
        let current_base = base_tag(current_etag);
        let current = &kept
            .iter()
            .find(|v| base_tag(&v.etag) == current_base)?
            .entries;
        for tag in held {
            if tag == current_base {
                return None;
            }
            if let Some(old) = kept.iter().find(|v| base_tag(&v.etag) == tag) {
                let changed = current
                    .iter()
                    .filter(|(id, updated)| old.entries.get(*id) != Some(updated))
                    .map(|(id, _)| id.clone())
                    .collect();
                return Some(changed);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::cache::tests::headers;

    #[test]
    fn a_delta_is_offered_only_from_a_kept_older_version_to_a_reader_that_asks() {
        let cache = Versions::default();
        let key = "feeds/all.atom?50&";
        let v1: HashMap<String, i64> = [("a".to_string(), 1)].into();
        let v2: HashMap<String, i64> = [("a".to_string(), 2), ("b".to_string(), 1)].into();
        cache.remember(key, "\"one\"", v1);
        cache.remember(key, "\"two\"", v2);
        let ask =
            |pairs: &[(&'static str, &str)]| cache.delta_since(key, &headers(pairs), "\"two\"");
        let mut changed = ask(&[("a-im", "feed"), ("if-none-match", "\"one-gz\"")]).expect("delta");
        changed.sort();
        assert_eq!(changed, ["a", "b"], "a changed, b is new");
        assert_eq!(ask(&[("if-none-match", "\"one\"")]), None, "no A-IM: whole");
        assert_eq!(
            ask(&[("a-im", "feed"), ("if-none-match", "\"two\"")]),
            None,
            "current: 304"
        );
        assert_eq!(
            ask(&[("a-im", "feed"), ("if-none-match", "\"zero\"")]),
            None,
            "unknown: whole"
        );
    }
}
