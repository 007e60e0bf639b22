//! The background pruning loop: applies `retention` and `max_items_per_feed` every hour,
//! in small transactions so polls are never held up for long.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::Clock;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::store::{PruneStats, Retention, Store};

/// Time between two pruning passes.
const EVERY: Duration = Duration::from_secs(3600);
/// Items or sources removed per transaction.
const BATCH: usize = 200;

/// Prunes now, then every hour and whenever `wake` is notified (the limits changed), until
/// `cancel` fires. `retention` gives the limits in force, asked before each pass.
pub async fn run(
    store: Store,
    retention: impl Fn() -> Retention,
    clock: Clock,
    wake: Arc<Notify>,
    cancel: CancellationToken,
) {
    loop {
        match prune_all(&store, retention(), clock(), &cancel).await {
            Ok(stats) if stats != PruneStats::default() => {
                tracing::info!(items = stats.items, sources = stats.sources, "pruned");
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "pruning failed"),
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
            () = wake.notified() => {}
        }
    }
}

/// One pass: batches until nothing is left to prune (or shutdown).
pub async fn prune_all(
    store: &Store,
    retention: Retention,
    now: DateTime<Utc>,
    cancel: &CancellationToken,
) -> Result<PruneStats, crate::store::StoreError> {
    let mut total = PruneStats::default();
    while !cancel.is_cancelled() {
        let stats = store
            .call(move |s| s.prune_batch(now, retention, BATCH))
            .await?;
        if stats == PruneStats::default() {
            break;
        }
        total.items += stats.items;
        total.sources += stats.sources;
        // Let waiting polls take the write lock between batches.
        tokio::task::yield_now().await;
    }
    store.call(Store::prune_archives).await?;
    Ok(total)
}
