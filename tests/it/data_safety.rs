//! The database file is a whole database: a copy of the `.db` file alone, taken after a
//! poll or a clean stop, holds every item, and `feedsift backup` copies a live database,
//! whose phrase index (kept beside the database, not in the copy) is built again on first use.

use std::path::Path;

use crate::support::{
    ConfigBuilder, Daemon, TestServer, get_text, run_feedsift, two_copies_config,
};

/// The items in a copy of the database file `db` alone (no `-wal` or `-shm` beside it).
fn items_in_copy_of(db: &Path) -> i64 {
    let dir = tempfile::tempdir().expect("dir");
    let copy = dir.path().join("copy.db");
    std::fs::copy(db, &copy).expect("copy the .db file");
    let conn = rusqlite::Connection::open(&copy).expect("open copy");
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity");
    assert_eq!(integrity, "ok");
    conn.query_row("SELECT count(*) FROM items", [], |r| r.get(0))
        .expect("the copy has the items table")
}

#[tokio::test]
async fn the_database_file_alone_holds_every_item_after_a_poll() {
    let server = TestServer::start().await;
    let config = two_copies_config(&server, "");
    let polled = run_feedsift("poll", &config.path, &["--all"]).await;
    assert_eq!(polled.code, Some(0), "{}", polled.stderr);
    let db = config.load().storage.path;
    let wal = db.with_extension("db-wal");
    assert!(
        std::fs::metadata(&wal).map_or(0, |m| m.len()) == 0,
        "the write-ahead log is folded in on exit"
    );
    assert_eq!(items_in_copy_of(&db), 3);
    // Commands that only read (after migrating, which writes) leave no log behind either.
    let feeds = run_feedsift("feeds", &config.path, &[]).await;
    assert_eq!(feeds.code, Some(0), "{}", feeds.stderr);
    assert!(std::fs::metadata(&wal).map_or(0, |m| m.len()) == 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_stop_leaves_everything_in_the_database_file_and_backup_copies_a_live_one() {
    let server = TestServer::start().await;
    let config = two_copies_config(&server, "[[output]]\nname = \"all\"\n");
    let daemon = Daemon::start(&config.path).await;
    for _ in 0..200 {
        if get_text(&daemon.url("/feeds/all.json"))
            .await
            .matches("\"id\"")
            .count()
            == 3
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let dir = tempfile::tempdir().expect("dir");
    let backup = dir.path().join("backup.db");
    let ran = run_feedsift("backup", &config.path, &[backup.to_str().expect("path")]).await;
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(
        items_in_copy_of(&backup),
        3,
        "the backup of the running daemon's database"
    );

    // Opened on its own, the copy finds its stories by their words.
    let restored = ConfigBuilder::new()
        .storage("path", &format!("{:?}", backup.display().to_string()))
        .write();
    let found = run_feedsift("query", &restored.path, &["\"a model predicts rain\""]).await;
    assert_eq!(found.code, Some(0), "{}", found.stderr);
    assert!(
        found.stdout.contains("Robots forecast the weather"),
        "{}",
        found.stdout
    );

    let db = config.load().storage.path;
    let itself = run_feedsift("backup", &config.path, &[db.to_str().expect("path")]).await;
    assert_eq!(itself.code, Some(2), "the database is not its own backup");

    assert_eq!(daemon.stop().await, Some(0));
    assert_eq!(items_in_copy_of(&db), 3, "after a clean stop");
}
