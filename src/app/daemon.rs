//! `feedsift run`: the scheduler, the server and the pruner as one service that reloads its
//! config on SIGHUP, stops cleanly on SIGTERM/SIGINT and talks to systemd (READY, STATUS,
//! watchdog) when it runs under it.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use arc_swap::ArcSwap;
use sd_notify::NotifyState;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::background;
use crate::app::{self, feed_specs, open_store};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::refresh::{self, Poller};
use crate::retention;
use crate::schedule;
use crate::serve::{self, AppState};
use crate::store::Store;

/// Work in flight gets this long after SIGTERM before the process exits anyway (the unit
/// allows 10 s in all).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);
/// The watchdog is only fed while the scheduler has ticked this recently.
const WATCHDOG_STALL: i64 = 30;

/// Polls on schedule and serves HTTP on `listener` until `shutdown` fires.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let metrics = Arc::new(Metrics::default());
    // Before the daemon says it listens: a SIGHUP from then on reloads, never terminates it.
    let hangups = signal(SignalKind::hangup()).context("cannot listen for SIGHUP")?;
    let poller = app::poller(&config, store.clone(), metrics.clone())?;
    let clock = poller.clock.clone();
    tracing::info!(addr = %listener.local_addr()?, feeds = config.feeds.len(), outputs = config.outputs.len(), "listening");
    for warning in config.warnings() {
        tracing::warn!("config: {warning}");
    }
    let (move_to, moves) = mpsc::channel(1);
    let running = Running {
        database: Arc::new(config.storage.path.clone()),
        state: AppState::new(store.clone(), Arc::new(config)).with_metrics(metrics),
        poller: Arc::new(ArcSwap::from_pointee(poller)),
        prune_now: Arc::new(Notify::new()),
        move_to,
    };
    let state = running.state.clone();

    let mut tasks = JoinSet::new();
    tasks.spawn(serve_moving(
        listener,
        state.clone(),
        moves,
        shutdown.clone(),
    ));
    tasks.spawn(never_fails(retention::run(
        store.clone(),
        {
            let state = state.clone();
            move || app::retention(&state.config())
        },
        clock,
        running.prune_now.clone(),
        shutdown.clone(),
    )));
    tasks.spawn(never_fails(reload_on_hangup(
        running.clone(),
        hangups,
        shutdown.clone(),
    )));
    tasks.spawn(never_fails(background::checkpoint_regularly(
        store.clone(),
        shutdown.clone(),
    )));
    tasks.spawn(never_fails(crate::fulltext::run(
        {
            let running = running.clone();
            move || {
                (
                    running.poller.load_full().as_ref().clone(),
                    running.state.config(),
                )
            }
        },
        shutdown.clone(),
    )));
    tasks.spawn(never_fails(background::push_changes(
        state.clone(),
        shutdown.clone(),
    )));
    let heartbeat = state.heartbeat();
    if let Some(period) = sd_notify::watchdog_enabled() {
        tasks.spawn(never_fails(feed_watchdog(
            period,
            heartbeat.clone(),
            shutdown.clone(),
        )));
    }
    let configured = {
        let state = state.clone();
        move || -> HashSet<String> {
            state
                .config()
                .feeds
                .iter()
                .map(|f| f.name.to_string())
                .collect()
        }
    };
    let concurrency = {
        let state = state.clone();
        move || state.config().fetch.concurrency
    };
    let poll = {
        let running = running.clone();
        move |name: String| {
            let running = running.clone();
            async move {
                let (config, poller) = (running.state.config(), running.poller.load_full());
                let Some(feed) = config.feeds.iter().find(|f| f.name.as_str() == name) else {
                    return true;
                };
                match refresh::refresh(&poller, &config.fetch, feed).await {
                    Ok(_) => {
                        let status = poller.metrics.status_line();
                        notify(&[NotifyState::Status(&status)]);
                        true
                    }
                    Err(e) => {
                        tracing::error!(feed = %name, error = %e, "cannot record poll");
                        poller.metrics.record_unrecorded(&e.to_string());
                        false
                    }
                }
            }
        }
    };
    let scheduler = schedule::run(
        store,
        configured,
        concurrency,
        heartbeat,
        shutdown.clone(),
        poll,
    );
    tasks.spawn(never_fails(scheduler));
    notify(&[
        NotifyState::Ready,
        NotifyState::Status("started; no polls yet"),
    ]);

    shutdown.cancelled().await;
    tracing::info!("shutting down");
    notify(&[NotifyState::Stopping]);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while let Some(done) = tasks.join_next().await {
            if let Ok(Err(e)) = done {
                tracing::error!(error = %e, "server failed");
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!("work still in flight at shutdown was dropped");
    }
    // The database file alone then holds every committed poll.
    if let Err(e) = state.store.call(Store::checkpoint).await {
        tracing::warn!(error = %e, "cannot fold the write-ahead log into the database");
    }
    Ok(())
}

/// A task that cannot fail, in the server's task set.
async fn never_fails(task: impl Future<Output = ()>) -> std::io::Result<()> {
    task.await;
    Ok(())
}

/// Tells systemd, when it listens (NOTIFY_SOCKET); otherwise does nothing.
fn notify(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!(error = %e, "cannot notify systemd");
    }
}

/// Feeds systemd's watchdog at half its period while the scheduler is alive.
async fn feed_watchdog(period: Duration, heartbeat: Arc<AtomicI64>, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(period / 2);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticker.tick() => {
                let last = heartbeat.load(Ordering::Relaxed);
                if chrono::Utc::now().timestamp() - last <= WATCHDOG_STALL {
                    notify(&[NotifyState::Watchdog]);
                }
            }
        }
    }
}

/// What a config reload puts in force besides the config itself.
#[derive(Clone)]
struct Running {
    state: AppState,
    /// Polls take the poller in force when they start; polls in flight finish with theirs.
    poller: Arc<ArcSwap<Poller>>,
    /// Wakes the pruner when the retention limits change.
    prune_now: Arc<Notify>,
    /// Hands the server a listener on a new `listen` address.
    move_to: mpsc::Sender<TcpListener>,
    /// The database in use until the next restart, whatever later configs say.
    database: Arc<std::path::PathBuf>,
}

/// Serves HTTP on `listener` until shutdown, moving to each listener that arrives on `moves`:
/// the one before stops accepting and finishes the requests it has.
async fn serve_moving(
    listener: TcpListener,
    state: AppState,
    mut moves: mpsc::Receiver<TcpListener>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let mut servers = JoinSet::new();
    let mut current = shutdown.child_token();
    servers.spawn(serve::serve(listener, state.clone(), current.clone()));
    while let Some(listener) = tokio::select! {
        () = shutdown.cancelled() => None,
        next = moves.recv() => next,
    } {
        current.cancel();
        current = shutdown.child_token();
        servers.spawn(serve::serve(listener, state.clone(), current.clone()));
        // Servers left behind by earlier moves that have finished.
        while let Some(done) = servers.try_join_next() {
            if let Ok(Err(e)) = done {
                tracing::error!(error = %e, "server failed");
            }
        }
    }
    while let Some(done) = servers.join_next().await {
        done.map_err(std::io::Error::other)??;
    }
    Ok(())
}

/// Reloads the config on every SIGHUP until shutdown.
async fn reload_on_hangup(
    running: Running,
    mut hangups: tokio::signal::unix::Signal,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = hangups.recv() => reload(&running).await,
        }
    }
}

/// Loads the config file again and puts it in force; a bad file is logged and the old config
/// stays. Feeds added start polling, removed ones stop, changed ones keep their schedule
/// state; outputs and filters change at once. A new `listen` address is served at once and
/// the old one closed; `[fetch]` settings apply to polls that start from now on, retention
/// limits to a pruning pass run at once. Only the database path waits for the next restart.
async fn reload(running: &Running) {
    let old = running.state.config();
    match stage(running, &old).await {
        Ok(staged) => put_in_force(running, &old, staged).await,
        Err(e) => tracing::error!(
            error = %format_args!("{e:#}"),
            "config reload failed; the old config stays in force"
        ),
    }
}

/// What a reload puts in force, all of it made before anything changes.
struct Staged {
    config: Config,
    /// `None` when the poller in force fits the new config.
    poller: Option<Poller>,
    /// Bound when `listen` changed.
    listener: Option<TcpListener>,
}

/// Everything that can fail, done first, so a failure leaves the old config whole. The feeds
/// are synced last: that write is the point of no return.
async fn stage(running: &Running, old: &Config) -> anyhow::Result<Staged> {
    let config = Config::load(&old.path)?;
    let poller = app::poller_for_reload(&running.poller.load(), old, &config)?;
    let listener = if config.server.listen == old.server.listen {
        None
    } else {
        let bound = TcpListener::bind(config.server.listen).await;
        Some(bound.with_context(|| format!("cannot listen there: {}", config.server.listen))?)
    };
    sync_feeds(&running.state.store, &config).await?;
    Ok(Staged {
        config,
        poller,
        listener,
    })
}

async fn put_in_force(running: &Running, old: &Config, staged: Staged) {
    let Staged {
        config,
        poller,
        listener,
    } = staged;
    if let Some(listener) = listener {
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(%addr, "listening");
        }
        // The server takes each listener at once; the channel never holds more than one.
        if running.move_to.send(listener).await.is_err() {
            tracing::error!("the HTTP server has stopped; the new listen address is not served");
        }
    }
    // Compared with the database in use, not the last config: a path changed and changed
    // back is no change at all.
    if config.storage.path != *running.database {
        tracing::warn!(path = %config.storage.path.display(), in_use = %running.database.display(), "a new database path takes effect at the next restart");
    } else if old.storage.path != *running.database {
        tracing::info!(path = %config.storage.path.display(), "the database path is back to the one in use");
    }
    if let Some(poller) = poller {
        running.poller.store(Arc::new(poller));
    }
    let prune = app::retention(&config) != app::retention(old);
    tracing::info!(
        feeds = config.feeds.len(),
        outputs = config.outputs.len(),
        "config reloaded"
    );
    running.state.replace_config(config);
    if prune {
        running.prune_now.notify_one();
    }
}

async fn sync_feeds(store: &Store, config: &Config) -> anyhow::Result<()> {
    let specs = feed_specs(&config.feeds);
    store
        .call(move |s| s.sync_feeds(&specs))
        .await
        .context("updating the feeds")
}

/// Fires `token` on SIGTERM or SIGINT.
pub fn cancel_on_signal(token: CancellationToken) -> anyhow::Result<()> {
    // Installed before returning, so a failure is the caller's error, not a lost one.
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        token.cancel();
    });
    Ok(())
}
