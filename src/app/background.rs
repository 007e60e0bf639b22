//! The daemon's housekeeping between polls: archives and WebSub pushes after the database
//! changes, and the write-ahead log copied into the database file.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::documents::Publication;
use crate::serve::AppState;
use crate::store::Store;

/// How often the hub looks for changed documents to push.
const PUSH_TICK: Duration = Duration::from_secs(1);
/// How often it looks anyway, for deliveries waiting to be retried and leases that ended.
const PUSH_ANYWAY: Duration = Duration::from_secs(30);

/// After a poll changes the database: brings the outputs' archives up to date and pushes
/// changed documents to their WebSub subscribers.
pub(super) async fn push_changes(state: AppState, shutdown: CancellationToken) {
    let mut seen_version = None;
    let mut last_pass = tokio::time::Instant::now();
    let mut ticker = tokio::time::interval(PUSH_TICK);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let version = state.store.call(Store::data_version).await.ok();
        if version == seen_version && last_pass.elapsed() < PUSH_ANYWAY {
            continue;
        }
        seen_version = version;
        last_pass = tokio::time::Instant::now();
        let config = state.config();
        update_archives(&state.store, &config).await;
        state
            .hub
            .deliver_changes(&state.store, &config, chrono::Utc::now())
            .await;
    }
}

/// Brings every output's archive up to date (off the serving path, which only reads it).
async fn update_archives(store: &Store, config: &Arc<Config>) {
    for output in &config.outputs {
        let doc = Publication::output(output);
        let base = config.server.base_url.clone();
        if let Err(e) = store.call(move |s| doc.update_archive(s, &base)).await {
            tracing::warn!(output = %output.name, error = %e, "cannot update the archive");
        }
    }
}

/// How often the write-ahead log is copied into the database file while the daemon runs.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(300);

/// Copies the write-ahead log into the database file every few minutes, so the file is
/// never far behind what was committed.
pub(super) async fn checkpoint_regularly(store: Store, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(CHECKPOINT_EVERY) => {}
        }
        if let Err(e) = store.call(Store::checkpoint_passive).await {
            tracing::warn!(error = %e, "cannot copy the write-ahead log into the database");
        }
    }
}
