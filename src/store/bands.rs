//! The near band index of the writer's transactions: the in-memory index (`near::BandIndex`)
//! loaded from the stored shapes, kept when a transaction commits and dropped when it does not,
//! and brought up to date at the start of each with the shapes another process stored (a
//! `feedsift poll` from the command line while the daemon runs).

use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

use super::StoreError;
use crate::model::NearShape;
use crate::near::BandIndex;

/// The band index for the writes of one transaction: loaded from the stored shapes on first
/// use, and forgotten (to be loaded again) unless [`BandWrites::keep`] is called once the
/// transaction committed, so entries of a rolled-back write never stay.
pub(super) struct BandWrites<'s> {
    guard: MutexGuard<'s, Option<BandIndex>>,
    kept: bool,
}

impl<'s> BandWrites<'s> {
    /// Takes the index (the caller holds the writer, `conn`).
    pub(super) fn lock(
        index: &'s Mutex<Option<BandIndex>>,
        conn: &Connection,
    ) -> Result<BandWrites<'s>, StoreError> {
        let guard = index.lock().unwrap_or_else(|p| p.into_inner());
        let mut writes = BandWrites { guard, kept: false };
        // Should this fail, the guard drops the index, to be loaded whole next time.
        add_stored_since(conn, writes.index())?;
        Ok(writes)
    }

    /// The transaction committed: what it indexed stays.
    pub(super) fn keep(mut self) {
        self.kept = true;
    }

    pub(super) fn index(&mut self) -> &mut BandIndex {
        self.guard.get_or_insert_default()
    }
}

impl Drop for BandWrites<'_> {
    fn drop(&mut self) {
        if !self.kept {
            *self.guard = None;
        }
    }
}

/// The band index forgets the shapes up to `last` (which the store forgot), when it is loaded.
pub(super) fn forget_indexed(index: &Mutex<Option<BandIndex>>, last: i64) {
    let mut guard = index.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(index) = guard.as_mut() {
        index.forget_through(u32::try_from(last).unwrap_or(u32::MAX));
    }
}

/// Adds to `index` the stored shapes newer than any it holds: every one to an empty index.
fn add_stored_since(conn: &Connection, index: &mut BandIndex) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached("SELECT id, bands FROM near_shapes WHERE id > ?1")?;
    let mut rows = stmt.query([index.newest()])?;
    while let Some(row) = rows.next()? {
        if let Ok(id) = u32::try_from(row.get::<_, i64>(0)?) {
            index.insert(
                id,
                &NearShape::hashes_from_bytes(&row.get::<_, Vec<u8>>(1)?),
            );
        }
    }
    Ok(())
}
