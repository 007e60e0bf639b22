//! Where a feed lives after permanent redirects (RFC 9110 §15.4.2 and §15.4.9: 301 and 308
//! ask clients to update the links they store).

use url::Url;

use crate::model::Location;

/// Polls in a row a permanent redirect to another host must be seen before it is trusted,
/// so that a maintenance page or a hijacked domain cannot take a feed over at once.
const CROSS_HOST_MOVE_AFTER: u32 = 3;

/// Where the feed lives after this poll's permanent redirects (RFC 9110 §15.4.2 and §15.4.9:
/// 301 and 308 ask clients to update stored links). A move within the same host (including
/// HTTP → HTTPS) is taken at once; a move to another host only after it has been seen
/// [`CROSS_HOST_MOVE_AFTER`] polls in a row.
pub fn relocate(fetched: &Url, current: &Location, moved_to: Option<&Url>) -> Location {
    let Some(target) = moved_to else {
        return Location {
            effective_url: current.effective_url.clone(),
            candidate: None,
            candidate_seen: 0,
        };
    };
    let adopt = Location {
        effective_url: Some(target.to_string()),
        candidate: None,
        candidate_seen: 0,
    };
    if target.host_str() == fetched.host_str() {
        return adopt;
    }
    let seen = if current.candidate.as_deref() == Some(target.as_str()) {
        current.candidate_seen + 1
    } else {
        1
    };
    if seen >= CROSS_HOST_MOVE_AFTER {
        return adopt;
    }
    Location {
        effective_url: current.effective_url.clone(),
        candidate: Some(target.to_string()),
        candidate_seen: seen,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("valid url")
    }

    #[test]
    fn same_host_moves_are_taken_at_once() {
        let moved = relocate(
            &url("http://a.example/feed"),
            &Location::default(),
            Some(&url("https://a.example/rss")),
        );
        assert_eq!(
            moved.effective_url.as_deref(),
            Some("https://a.example/rss")
        );
    }

    #[test]
    fn cross_host_moves_are_taken_after_three_polls_in_a_row() {
        let from = url("https://a.example/feed");
        let to = url("https://b.example/feed");
        let mut location = Location::default();
        for seen in 1..CROSS_HOST_MOVE_AFTER {
            location = relocate(&from, &location, Some(&to));
            assert_eq!(
                (location.effective_url.as_deref(), location.candidate_seen),
                (None, seen)
            );
        }
        let interrupted = relocate(&from, &location, None);
        assert_eq!(
            (interrupted.candidate, interrupted.candidate_seen),
            (None, 0),
            "a poll without it starts over"
        );
        location = relocate(&from, &location, Some(&to));
        assert_eq!(
            location.effective_url.as_deref(),
            Some("https://b.example/feed")
        );
    }
}
