//! The write-ahead log reaches the database file without the writer copying it.

use super::*;
use crate::store::checkpointer::{self, file_size_reaching};

#[test]
fn the_log_is_copied_into_the_database_file_on_the_checkpointing_thread() {
    let f = fixture();
    let wal = f.path.with_extension("db-wal");
    let paragraph = |n: usize| format!("<p>Story {n} says {}</p>", "a few words more ".repeat(180));
    let stories: Vec<Item> = (0..100)
        .flat_map(|n| items(&format!("g{n}"), &format!("Story {n}"), &paragraph(n), &[]))
        .collect();
    poll(&f, "a", &stories, 0);
    let logged = std::fs::metadata(&wal).map_or(0, |m| m.len());
    // More than asks for a checkpoint, less than makes the writer copy it itself.
    let page = 4096 + 24;
    assert!(
        logged > u64::from(checkpointer::CHECKPOINT_PAGES.unsigned_abs()) * page
            && logged < u64::from(checkpointer::WRITER_CHECKPOINTS_AT.unsigned_abs()) * page,
        "{logged} bytes of log"
    );
    let size = file_size_reaching(&f.path, 300_000);
    assert!(size >= 300_000, "the database file holds {size} bytes");
    assert_eq!(f.store.item_count().expect("count"), 100);
}
