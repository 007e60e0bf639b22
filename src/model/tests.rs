//! Entry ids and story times.

use super::*;

#[test]
fn entry_ids_never_change_for_a_hash() {
    // Published ids must survive upgrades, or every reader shows every story again.
    let mut bytes = [0u8; 33];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = i as u8;
    }
    assert_eq!(
        ContentHash(bytes).entry_id(),
        "urn:uuid:4f4e6c1d-ffd3-86c9-9598-76d15aa96b5f"
    );
}

#[test]
fn a_story_is_told_within_a_window_by_its_date_never_a_future_one() {
    let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
    let hours = |h: i64| now + chrono::Duration::hours(h);
    let item = |published: Option<DateTime<Utc>>| Item {
        key: UpstreamKey("k".into()),
        hash: ContentHash([0; 33]),
        title: String::new(),
        link: None,
        content: None,
        base: None,
        author: None,
        published,
        updated: None,
        tags: Vec::new(),
        text: "".into(),
        dropped_links: Vec::new(),
        shape: None,
    };
    let day = std::time::Duration::from_secs(86_400);
    assert!(item(Some(hours(-23))).told_within(day, now));
    assert!(!item(Some(hours(-25))).told_within(day, now));
    assert!(
        item(Some(hours(48))).told_within(day, now),
        "the future is now"
    );
    assert!(item(None).told_within(day, now), "undated: now");
    assert!(item(Some(hours(-25))).told_within(std::time::Duration::MAX, now));
}
