//! Schema versions: new databases, upgrades from older ones, refusing newer ones.

use super::*;

/// A database file as the feedsift of schema `version` left it, with a connection to it; the
/// directory lives as long as the first value.
fn database_at(version: i64) -> (tempfile::TempDir, std::path::PathBuf, Connection) {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join(format!("v{version}.db"));
    let mut conn = Connection::open(&path).expect("open");
    migrations::migrate_to(&mut conn, version).expect("older version");
    (dir, path, conn)
}

fn schema_version(conn: &Connection) -> i64 {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version")
}

#[test]
fn a_new_database_is_migrated_and_marked_as_ours() {
    let f = fixture();
    let conn = Connection::open(&f.path).expect("open");
    let app_id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .expect("id");
    let journal: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("journal");
    assert_eq!(schema_version(&conn), latest_version());
    assert_eq!(app_id, migrations::APPLICATION_ID);
    assert_eq!(journal, "wal");
    // The text index in its own file, with this version's page and leaf size.
    let index = Connection::open(crate::store::text_index::path_beside(&f.path)).expect("index");
    let page: i64 = index
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .expect("page size");
    let leaf: i64 = index
        .query_row("SELECT v FROM item_text_config WHERE k = 'pgsz'", [], |r| {
            r.get(0)
        })
        .expect("leaf size");
    assert_eq!((page, leaf), (16384, 16000));
}

#[test]
fn a_database_from_a_newer_feedsift_is_refused() {
    let f = fixture();
    let conn = Connection::open(&f.path).expect("open");
    conn.pragma_update(None, "user_version", latest_version() + 1)
        .expect("set version");
    drop(conn);
    assert!(matches!(
        Store::open(&f.path),
        Err(StoreError::NewerSchema(_))
    ));
}

#[test]
fn a_database_from_the_previous_version_upgrades_cleanly() {
    let (_dir, path, conn) = database_at(1);
    conn.execute_batch(
        "INSERT INTO feeds (id, name, url) VALUES (1, 'a', 'https://a.example/feed');
         INSERT INTO items (id, entry_id, hash, title, updated, first_seen, sort_time)
             VALUES (1, 'urn:uuid:old', x'01', 'Kept story', 1800000000, 1800000000, 1800000000);
         INSERT INTO sources (feed_id, upstream_key, item_id, first_seen) VALUES (1, 'g:old', 1, 1800000000);",
    )
    .expect("v1 rows");
    drop(conn);

    let store = Store::open(&path).expect("upgrade");
    let conn = Connection::open(&path).expect("open");
    assert_eq!(schema_version(&conn), latest_version());
    let kept = store.items_matching(None, 10).expect("query");
    assert_eq!(kept.len(), 1);
    assert_eq!(
        (kept[0].entry_id.as_str(), kept[0].base.as_deref()),
        ("urn:uuid:old", None)
    );
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(integrity, "ok");
}

#[test]
fn version_5_hashes_move_to_the_items_index_and_earlier_ones_stay_known() {
    let (_dir, path, conn) = database_at(5);
    let (old, new) = (story_hash("Story", "first"), story_hash("Story", "second"));
    conn.execute(
        "INSERT INTO items (id, entry_id, hash, title, updated, first_seen, sort_time)
         VALUES (1, 'urn:uuid:x', ?1, 'Story', 1, 1, 1)",
        [new.as_bytes()],
    )
    .expect("item");
    for hash in [old, new] {
        conn.execute(
            "INSERT INTO item_hashes (hash, item_id) VALUES (?1, 1)",
            [hash.as_bytes()],
        )
        .expect("hash");
    }
    drop(conn);

    let store = Store::open(&path).expect("upgrade");
    assert_eq!(store.item_for_hash(&old).expect("old"), Some(1));
    assert_eq!(store.item_for_hash(&new).expect("new"), Some(1));
    let conn = store.reader();
    let earlier: Vec<Vec<u8>> = conn
        .prepare("SELECT hash FROM earlier_hashes")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("earlier");
    assert!(earlier.contains(&old.as_bytes().to_vec()), "{earlier:?}");
}

#[test]
fn version_6_items_are_rehashed_so_capitalisation_no_longer_splits_a_story() {
    let (_dir, path, conn) = database_at(6);
    let v1 = {
        let mut bytes = [1u8; 33];
        bytes[1..].copy_from_slice(blake3::hash(b"old normalisation").as_bytes());
        bytes
    };
    conn.execute(
        "INSERT INTO items (id, entry_id, hash, title, content, updated, first_seen, sort_time)
         VALUES (7, 'urn:uuid:kept', ?1, 'Microsoft Invests Billions In OpenAI',
                 '<p>The deal, announced on Monday, extends a long partnership.</p>', 1, 1, 1)",
        [v1.as_slice()],
    )
    .expect("item");
    drop(conn);

    let store = Store::open(&path).expect("upgrade");
    let story = ContentHash::of_story(
        "microsoft invests billions in openai",
        "The deal, announced on Monday, extends a long partnership.",
        &[],
        None,
    )
    .expect("text");
    assert_eq!(store.item_for_hash(&story).expect("new"), Some(7));
    assert_eq!(
        store.item_for_hash(&ContentHash(v1)).expect("old"),
        Some(7),
        "the old hash stays known"
    );
    let entry_id: String = store
        .reader()
        .query_row("SELECT entry_id FROM items WHERE id = 7", [], |r| r.get(0))
        .expect("entry id");
    assert_eq!(entry_id, "urn:uuid:kept");
}

#[test]
fn another_programs_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("other.db");
    let conn = Connection::open(&path).expect("open");
    conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');")
        .expect("other schema");
    drop(conn);
    let refused = Store::open(&path)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(refused.contains("not feedsift's"), "{refused}");
    let marked = dir.path().join("marked.db");
    let conn = Connection::open(&marked).expect("open");
    conn.pragma_update(None, "application_id", 1234)
        .expect("id");
    conn.execute_batch("CREATE TABLE t (x);").expect("table");
    drop(conn);
    assert!(matches!(Store::open(&marked), Err(StoreError::NotOurs)));
    let conn = Connection::open(&path).expect("reopen");
    let body: String = conn
        .query_row("SELECT body FROM notes", [], |r| r.get(0))
        .expect("untouched");
    assert_eq!(body, "mine");
}

#[test]
fn a_version_15_text_index_moves_into_its_own_file_as_it_is() {
    let (_dir, path, conn) = database_at(15);
    conn.execute_batch(
        "INSERT INTO items (id, entry_id, hash, title, content, updated, first_seen, sort_time)
             VALUES (3, 'urn:uuid:moved', x'03', 'Moved story', '<p>Stored words.</p>', 1, 1, 1);
         INSERT INTO item_text (rowid, title, body) VALUES (3, 'Moved story', 'Indexed words');",
    )
    .expect("v15 rows");
    drop(conn);

    let store = Store::open(&path).expect("upgrade");
    // Found by the words only the old index held: moved, not built again from the item.
    let expr = parse("\"indexed words\"").expect("filter");
    assert_eq!(store.matching_ids(Some(&expr), 10).expect("query"), [3]);
    let left: i64 = store
        .writer()
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'item_text%'",
            [],
            |r| r.get(0),
        )
        .expect("schema");
    assert_eq!(left, 0, "the store keeps no text index of its own");
    let index = Connection::open(crate::store::text_index::path_beside(&path)).expect("index");
    index
        .execute(
            "INSERT INTO item_text (item_text, rank) VALUES ('integrity-check', 1)",
            [],
        )
        .expect("the moved index is sound");
}
