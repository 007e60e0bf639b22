//! The schema as an append-only list of migrations; its length is the schema version
//! (`PRAGMA user_version`). Never edit a published step: add a new one.

use std::collections::HashMap;

use rusqlite::{Connection, Transaction, params};

use super::StoreError;
use crate::model::{ContentHash, NearShape};
use crate::text::html_to_text;

/// Marks the file as feedsift's (`PRAGMA application_id`): "FSFT".
pub const APPLICATION_ID: i32 = 0x4653_4654;

/// One step of the schema: SQL, or code for what SQL cannot compute.
enum Step {
    Sql(&'static str),
    Code(fn(&Transaction) -> Result<(), StoreError>),
}

const MIGRATIONS: &[Step] = &[
    // 1: feeds, canonical items with their sources, hashes, tags and text index.
    Step::Sql(
        r#"
    CREATE TABLE feeds (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        url TEXT NOT NULL,
        title TEXT,
        site_link TEXT,
        etag TEXT,
        last_modified TEXT,
        last_poll INTEGER,
        last_success INTEGER,
        last_status TEXT,
        last_error TEXT,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        next_poll INTEGER NOT NULL DEFAULT 0,
        identity TEXT NOT NULL DEFAULT 'guid',
        items_seen INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX feeds_next_poll ON feeds (next_poll);

    CREATE TABLE feed_tags (
        feed_id INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        label TEXT NOT NULL,
        PRIMARY KEY (feed_id, key)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX feed_tags_key ON feed_tags (key);

    -- entry_id has no index: only `feedsift explain` looks items up by it, and every
    -- random index costs each poll a write of its pages.
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        entry_id TEXT NOT NULL,
        hash BLOB NOT NULL,
        title TEXT NOT NULL,
        link TEXT,
        author TEXT,
        content TEXT,
        published INTEGER,
        updated INTEGER NOT NULL,
        first_seen INTEGER NOT NULL,
        sort_time INTEGER NOT NULL,
        content_updates INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX items_sort ON items (sort_time DESC, id DESC);

    -- Every hash an item ever had, so an older version of a story arriving later is still known.
    CREATE TABLE item_hashes (
        hash BLOB PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX item_hashes_item ON item_hashes (item_id);

    CREATE TABLE sources (
        feed_id INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
        upstream_key TEXT NOT NULL,
        item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
        link TEXT,
        first_seen INTEGER NOT NULL,
        PRIMARY KEY (feed_id, upstream_key)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX sources_item ON sources (item_id);

    CREATE TABLE item_tags (
        item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
        feed_id INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
        origin TEXT NOT NULL CHECK (origin IN ('category', 'hashtag')),
        key TEXT NOT NULL,
        label TEXT NOT NULL,
        PRIMARY KEY (item_id, feed_id, origin, key)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX item_tags_key ON item_tags (key, item_id);

    CREATE VIRTUAL TABLE item_text USING fts5 (
        title, body, content = '', contentless_delete = 1,
        tokenize = 'unicode61 remove_diacritics 2'
    );
    "#,
    ),
    // 2: the xml:base of an item, for making its relative links absolute when republished.
    Step::Sql(
        r#"
    ALTER TABLE items ADD COLUMN base TEXT;
    "#,
    ),
    // 3: tombstones of pruned items, so an old item that reappears in a feed is not new again.
    Step::Sql(
        r#"
    CREATE TABLE pruned_hashes (
        hash BLOB PRIMARY KEY,
        seen INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE pruned_keys (
        feed_id INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
        upstream_key TEXT NOT NULL,
        seen INTEGER NOT NULL,
        PRIMARY KEY (feed_id, upstream_key)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX pruned_hashes_seen ON pruned_hashes (seen);
    CREATE INDEX pruned_keys_seen ON pruned_keys (seen);
    CREATE INDEX items_first_seen ON items (first_seen);
    "#,
    ),
    // 4: where a feed has moved (permanent redirects), and feeds that are gone (410).
    Step::Sql(
        r#"
    ALTER TABLE feeds ADD COLUMN effective_url TEXT;
    ALTER TABLE feeds ADD COLUMN moved_candidate TEXT;
    ALTER TABLE feeds ADD COLUMN moved_seen INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE feeds ADD COLUMN gone INTEGER NOT NULL DEFAULT 0;
    "#,
    ),
    // 5: what had to be repaired to read a feed's last document.
    Step::Sql(
        r#"
    ALTER TABLE feeds ADD COLUMN repairs TEXT;
    "#,
    ),
    // 6: fewer writes per new item. The current hash is found through an index on `items`,
    // so only superseded hashes need rows of their own.
    Step::Sql(
        r#"
    CREATE INDEX items_hash ON items (hash);
    DELETE FROM item_hashes
     WHERE EXISTS (SELECT 1 FROM items WHERE id = item_hashes.item_id AND hash = item_hashes.hash);
    ALTER TABLE item_hashes RENAME TO earlier_hashes;
    "#,
    ),
    // 7: content hashes of version 2 (letter case folded, short stories with their link), so
    // a headline's capitalisation is no longer a difference. Entry ids are stored, so none
    // changes; each superseded hash stays known.
    Step::Code(rehash_items),
    // 8: links a source gave that are not published (not http or https), for `explain`.
    Step::Sql("ALTER TABLE sources ADD COLUMN dropped_links TEXT;"),
    // 9: one name per poll status ('ok' was written for what everything else calls
    // 'fetched'), and the column nothing ever read.
    Step::Sql(
        "UPDATE feeds SET last_status = 'fetched' WHERE last_status = 'ok';
         ALTER TABLE feeds DROP COLUMN items_seen;",
    ),
    // 10: archive pages of outputs (RFC 5005): each item's place in an output's history,
    // and the documents of full pages as first rendered, which never change.
    Step::Sql(
        "CREATE TABLE archive_places (
             output TEXT NOT NULL,
             place INTEGER NOT NULL,
             item_id INTEGER NOT NULL,
             PRIMARY KEY (output, place)
         ) STRICT, WITHOUT ROWID;
         CREATE UNIQUE INDEX archive_places_item ON archive_places (output, item_id);
         CREATE TABLE archive_pages (
             output TEXT NOT NULL,
             page INTEGER NOT NULL,
             format TEXT NOT NULL,
             body TEXT NOT NULL,
             kept INTEGER NOT NULL,
             PRIMARY KEY (output, page, format)
         ) STRICT, WITHOUT ROWID;",
    ),
    // 11: WebSub subscribers of the published documents.
    Step::Sql(
        "CREATE TABLE websub (
             topic TEXT NOT NULL,
             callback TEXT NOT NULL,
             secret TEXT,
             lease_until INTEGER NOT NULL,
             failures INTEGER NOT NULL DEFAULT 0,
             delivered TEXT,
             next_attempt INTEGER NOT NULL DEFAULT 0,
             PRIMARY KEY (topic, callback)
         ) STRICT, WITHOUT ROWID;",
    ),
    // 12: near duplicates. Each source's own headline; a near copy's rule, similarity, content,
    // date and hash (it differs from the story's); the shapes and band keys of recent copies
    // (pruned after `near_window`); and the (story, feed) pairs a user split.
    Step::Sql(
        "ALTER TABLE sources ADD COLUMN title TEXT;
         ALTER TABLE sources ADD COLUMN near_rule TEXT;
         ALTER TABLE sources ADD COLUMN near_score REAL;
         ALTER TABLE sources ADD COLUMN content TEXT;
         ALTER TABLE sources ADD COLUMN published INTEGER;
         ALTER TABLE sources ADD COLUMN hash BLOB;
         -- Each copy's shape; ids grow with `seen`, so pruning deletes the lowest ids.
         CREATE TABLE near_shapes (
             id INTEGER PRIMARY KEY,
             item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
             feed_id INTEGER NOT NULL,
             at INTEGER NOT NULL,
             seen INTEGER NOT NULL,
             size INTEGER NOT NULL,
             sketch BLOB NOT NULL,
             figures TEXT NOT NULL,
             title BLOB NOT NULL
         ) STRICT;
         CREATE INDEX near_shapes_item ON near_shapes (item_id);
         -- One B-tree, by band; rows leave by age, in one pass per pruning.
         CREATE TABLE near_bands (
             band INTEGER NOT NULL,
             item_id INTEGER NOT NULL,
             seen INTEGER NOT NULL,
             PRIMARY KEY (band, item_id)
         ) STRICT, WITHOUT ROWID;
         CREATE TABLE near_splits (
             item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
             feed_id INTEGER NOT NULL,
             PRIMARY KEY (item_id, feed_id)
         ) STRICT, WITHOUT ROWID;",
    ),
    // 13: the articles of new items of `full_text` feeds: the queue (state `pending`, by
    // `next_attempt`) and what fetching and extraction gave.
    Step::Sql(
        "CREATE TABLE articles (
             item_id INTEGER PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
             feed_id INTEGER NOT NULL,
             url TEXT NOT NULL,
             state TEXT NOT NULL CHECK (state IN ('pending', 'fetched', 'failed')),
             attempts INTEGER NOT NULL DEFAULT 0,
             next_attempt INTEGER NOT NULL,
             fetched INTEGER,
             bytes INTEGER,
             kept INTEGER,
             content TEXT,
             error TEXT
         ) STRICT;
         CREATE INDEX articles_due ON articles (state, next_attempt);",
    ),
    // 14: the text index merges its segments 16 at a time while polls are written, and 8 MiB
    // of terms are gathered before a segment is written (rather than 4 and 1 MiB): a cold
    // poll of 1,000 feeds spent a third of its time merging. The writer merges further when
    // it is idle, so searches see few segments.
    Step::Sql(
        "INSERT INTO item_text (item_text, rank) VALUES ('automerge', 16);
         INSERT INTO item_text (item_text, rank) VALUES ('crisismerge', 64);
         INSERT INTO item_text (item_text, rank) VALUES ('hashsize', 8388608);
         INSERT INTO item_text (item_text, rank) VALUES ('usermerge', 4);",
    ),
    // 15: band keys move into their shape's row (the band index is kept in memory): a table
    // of them cost 22 random-key inserts an item.
    Step::Code(bands_into_shapes),
    // 16: the text index moves into a file of its own, written by a thread of its own (see
    // `text_index`); the store numbers its transactions that change it. The move itself is
    // made on opening, so that one interrupted is made again.
    Step::Sql(
        "CREATE TABLE text_state (batch INTEGER NOT NULL); INSERT INTO text_state VALUES (0);",
    ),
];

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the database up to the latest version, each step in its own transaction.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    migrate_to(conn, latest_version())
}

/// Brings the database up to version `target` (tests start from older versions).
pub(super) fn migrate_to(conn: &mut Connection, target: i64) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let id: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let tables: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
        [],
        |r| r.get(0),
    )?;
    // Another program's database (or a file that only looks like one) is never migrated.
    if (id != 0 && id != APPLICATION_ID) || (id == 0 && current == 0 && tables > 0) {
        return Err(StoreError::NotOurs);
    }
    if current > latest_version() {
        return Err(StoreError::NewerSchema(current));
    }
    let steps = usize::try_from(target - current).unwrap_or(0);
    for (index, step) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(current as usize)
        .take(steps)
    {
        let tx = conn.transaction()?;
        match step {
            Step::Sql(sql) => tx.execute_batch(sql)?,
            Step::Code(run) => run(&tx)?,
        }
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    conn.pragma_update(None, "application_id", APPLICATION_ID)?;
    Ok(())
}

/// Migration 7: every item's hash recomputed from its stored title and content (the text
/// index keeps no copy). Where that differs from what the feed gives (a title made from the
/// text, media), the next poll replaces the hash without showing an update. Items whose new
/// hashes collide (two items that differed only in case) keep their own rows: the second
/// keeps its old hash, and new copies join the first.
fn rehash_items(tx: &Transaction) -> Result<(), StoreError> {
    let mut read = tx.prepare("SELECT id, hash, title, coalesce(content, ''), link FROM items")?;
    let rows = read.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, String>(2)?,
            html_to_text(&r.get::<_, String>(3)?),
            r.get::<_, Option<String>>(4)?,
        ))
    })?;
    let mut taken = tx.prepare(
        "SELECT EXISTS (SELECT 1 FROM items WHERE hash = ?1)
             OR EXISTS (SELECT 1 FROM earlier_hashes WHERE hash = ?1)",
    )?;
    let mut keep_old =
        tx.prepare("INSERT OR IGNORE INTO earlier_hashes (hash, item_id) VALUES (?1, ?2)")?;
    let mut update = tx.prepare("UPDATE items SET hash = ?2 WHERE id = ?1")?;
    for row in rows {
        let (id, old, title, text, link) = row?;
        let Some(new) = ContentHash::of_story(&title, &text, &[], link.as_deref()) else {
            continue;
        };
        if new.as_bytes() == old.as_slice() || taken.query_row([new.as_bytes()], |r| r.get(0))? {
            continue;
        }
        keep_old.execute(params![old, id])?;
        update.execute(params![id, new.as_bytes()])?;
    }
    Ok(())
}

/// Migration 15: each stored shape gets the band keys its story was indexed under when the
/// shape was seen (the high half of each, as they are computed now), and the band table goes.
fn bands_into_shapes(tx: &Transaction) -> Result<(), StoreError> {
    tx.execute_batch("ALTER TABLE near_shapes ADD COLUMN bands BLOB NOT NULL DEFAULT x''")?;
    let mut keys: HashMap<(i64, i64), Vec<u32>> = HashMap::new();
    {
        let mut stmt = tx.prepare("SELECT item_id, seen, band FROM near_bands")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let band: i64 = row.get(2)?;
            keys.entry((row.get(0)?, row.get(1)?))
                .or_default()
                .push(((band as u64) >> 32) as u32);
        }
    }
    let mut update =
        tx.prepare("UPDATE near_shapes SET bands = ?3 WHERE item_id = ?1 AND seen = ?2")?;
    for ((item_id, seen), bands) in keys {
        update.execute(params![item_id, seen, NearShape::hashes_to_bytes(&bands)])?;
    }
    tx.execute_batch("DROP TABLE near_bands")?;
    Ok(())
}
