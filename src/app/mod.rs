//! Wiring: the one place that builds the parts and connects them — open the store, build
//! the HTTP client and the poller, poll once for `feedsift poll`, and run the daemon
//! (`daemon`: scheduler, server, pruner, signals, reload, systemd notification).

mod background;
pub mod daemon;
pub mod import;

use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::config::{Config, FeedConfig};
use crate::fetch::{FetchSettings, Fetcher};
use crate::metrics::Metrics;
use crate::model::TagOrigin;
use crate::model::{PollSummary, system_clock};
use crate::parse::Limits;
use crate::process::tag;
use crate::refresh::{self, Parsing, Poller};
use crate::store::{FeedSpec, GroupCommit, Retention, Store};

/// Opens the database and makes its feeds match the config.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let path = config.storage.path.clone();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let specs = feed_specs(&config.feeds);
    let store = tokio::task::spawn_blocking(move || -> anyhow::Result<Store> {
        let store = Store::open(&path)?;
        store.sync_feeds(&specs)?;
        Ok(store)
    })
    .await
    .context("opening the database")??;
    Ok(store)
}

/// Opens the database for a command that searches it: waits for its text index to be whole
/// (it is rebuilt first after an unclean stop; the daemon serves meanwhile instead).
pub async fn open_store_to_search(config: &Config) -> anyhow::Result<Store> {
    let store = open_store(config).await?;
    store
        .call(|s| Ok(s.wait_for_text_index(None)))
        .await
        .context("waiting for the text index")?;
    Ok(store)
}

pub fn feed_specs(feeds: &[FeedConfig]) -> Vec<FeedSpec> {
    feeds
        .iter()
        .map(|f| FeedSpec {
            name: f.name.as_str().to_string(),
            url: f.url.to_string(),
            tags: f
                .tags
                .iter()
                .filter_map(|t| tag(t, TagOrigin::Feed))
                .collect(),
        })
        .collect()
}

/// Everything a refresh needs, with a writer thread of its own for `store`.
pub fn poller(config: &Config, store: Store, metrics: Arc<Metrics>) -> anyhow::Result<Poller> {
    Ok(Poller {
        writer: GroupCommit::spawn(store.clone()),
        store,
        fetcher: fetcher(config)?,
        metrics,
        parsing: parsing(config)?,
        clock: system_clock(),
    })
}

/// `poller` under the settings of a reloaded config: the same store, writer and counters. The
/// HTTP client is new only when its settings changed, and keeps its host gate unless the
/// per-host limits changed, so polls in flight and new ones share each host's limits; the
/// parsing slots and threads are new only when their number changed, so parses in flight
/// still count against the memory bound. `None` when nothing the poller depends on changed.
pub fn poller_for_reload(
    poller: &Poller,
    old: &Config,
    new: &Config,
) -> anyhow::Result<Option<Poller>> {
    let same_client = fetch_settings(old) == fetch_settings(new);
    let same_slots = parsers(old) == parsers(new);
    if same_client && same_slots && limits(old) == limits(new) {
        return Ok(None);
    }
    Ok(Some(Poller {
        fetcher: if same_client {
            poller.fetcher.clone()
        } else {
            poller
                .fetcher
                .reconfigured(fetch_settings(new))
                .context("building the HTTP client")?
        },
        parsing: if same_slots {
            poller.parsing.with_limits(limits(new))
        } else {
            parsing(new)?
        },
        ..poller.clone()
    }))
}

/// What the pruner keeps under `config`.
pub fn retention(config: &Config) -> Retention {
    Retention {
        max_age: config.storage.retention,
        max_items_per_feed: config.storage.max_items_per_feed,
        near_window: config
            .feeds
            .iter()
            .filter_map(|f| f.near)
            .max()
            .unwrap_or_default(),
    }
}

fn parsing(config: &Config) -> anyhow::Result<Parsing> {
    Parsing::new(limits(config), parsers(config)).context("starting the parsing threads")
}

/// Documents parsed at once. Parsing is CPU-bound, so more than there are cores would only hold
/// more documents in memory: polls beyond that wait for a slot with just their body.
fn parsers(config: &Config) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    config.fetch.concurrency.min(cores)
}

fn limits(config: &Config) -> Limits {
    Limits {
        max_items: config.storage.max_items_per_feed as usize,
        max_text: usize::try_from(config.fetch.max_body).unwrap_or(usize::MAX),
    }
}

/// For each URL, the feed it names: the URL itself, or, when it is a web page, the feed the
/// page links (as reader apps subscribe). A URL that cannot be fetched stays as it is.
pub async fn feeds_behind(config: &Config, urls: &[url::Url]) -> anyhow::Result<Vec<url::Url>> {
    let fetcher = fetcher(config)?;
    let permits = Arc::new(Semaphore::new(config.fetch.concurrency));
    let mut tasks = JoinSet::new();
    for (index, url) in urls.iter().cloned().enumerate() {
        let (fetcher, permits) = (fetcher.clone(), permits.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let fetched = fetcher
                .fetch(&url, &crate::fetch::Validators::default(), false)
                .await;
            let linked = match fetched {
                Ok(crate::fetch::Fetched {
                    reply: crate::fetch::Reply::Modified { body, .. },
                    ..
                }) if crate::discover::is_web_page(&body) => {
                    crate::discover::feed_links(&body, &url).into_iter().next()
                }
                _ => None,
            };
            (index, linked.unwrap_or(url))
        });
    }
    let mut found = urls.to_vec();
    while let Some(done) = tasks.join_next().await {
        let (index, url) = done.context("a discovery task failed")?;
        found[index] = url;
    }
    Ok(found)
}

fn fetcher(config: &Config) -> anyhow::Result<Fetcher> {
    Fetcher::new(fetch_settings(config)).context("building the HTTP client")
}

fn fetch_settings(config: &Config) -> FetchSettings {
    FetchSettings {
        timeout: config.fetch.timeout,
        max_body: config.fetch.max_body,
        user_agent: config.fetch.user_agent.clone(),
        per_host: config.fetch.per_host,
        per_host_delay: config.fetch.per_host_delay,
    }
}

/// Polls the selected feeds once, `concurrency` at a time; `progress` hears of each one done.
pub async fn poll_once(
    config: &Config,
    selection: Selection<'_>,
    progress: &dyn Fn(&PollSummary),
) -> anyhow::Result<PollSummary> {
    let store = open_store(config).await?;
    let feeds = select(config, &store, selection).await?;
    let poller = poller(config, store.clone(), Arc::default())?;
    let mut summary = PollSummary {
        selected: feeds.len(),
        ..PollSummary::default()
    };
    progress(&summary);
    // A poll task is started only when one of `concurrency` ends: each waiting task would
    // hold its whole state (kilobytes), so starting 5,000 at once cost tens of MiB.
    let mut tasks = JoinSet::new();
    let mut feeds = feeds.into_iter();
    loop {
        while tasks.len() < config.fetch.concurrency.max(1) {
            let Some(feed) = feeds.next() else { break };
            let (poller, fetch) = (poller.clone(), config.fetch.clone());
            tasks.spawn(async move { refresh::refresh(&poller, &fetch, &feed).await });
        }
        let Some(done) = tasks.join_next().await else {
            break;
        };
        let report = done.context("a poll task failed")??;
        summary.count(report.status, report.stats);
        progress(&summary);
    }
    // New items' articles, when feeds fetch them: until none is due any more.
    let sites = crate::fulltext::Sites::default();
    while crate::fulltext::fetch_due(&poller, config, &sites).await? > 0 {}
    // The database file alone then holds this poll (the writer thread may outlive us).
    store.call(Store::checkpoint).await?;
    Ok(summary)
}

/// Which feeds `feedsift poll` polls.
#[derive(Debug, Clone, Copy)]
pub enum Selection<'a> {
    All,
    One(&'a str),
    /// The feeds whose next poll is due.
    Due,
}

/// The configured feeds `selection` names.
async fn select(
    config: &Config,
    store: &Store,
    selection: Selection<'_>,
) -> anyhow::Result<Vec<FeedConfig>> {
    let due = match selection {
        Selection::All => return Ok(config.feeds.clone()),
        Selection::One(name) => {
            let feed = config.feeds.iter().find(|f| f.name.as_str() == name);
            return feed.cloned().map(|f| vec![f]).ok_or_else(|| {
                anyhow::anyhow!(BadArgument(format!("no feed named `{name}` in the config")))
            });
        }
        Selection::Due => store.call(|s| s.due_feeds(chrono::Utc::now())).await?,
    };
    Ok(config
        .feeds
        .iter()
        .filter(|f| due.iter().any(|d| d == f.name.as_str()))
        .cloned()
        .collect())
}

/// A command-line argument that names nothing (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadArgument(pub String);

/// The scheduler reads the feeds' schedule from the database.
impl crate::schedule::Schedule for Store {
    async fn spread_overdue(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        window: std::time::Duration,
    ) -> Result<(), crate::schedule::ScheduleError> {
        self.call(move |s| s.spread_overdue(now, window)).await?;
        Ok(())
    }

    async fn due(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<String>, crate::schedule::ScheduleError> {
        Ok(self.call(move |s| s.due_feeds(now)).await?)
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZero;
    use std::path::Path;
    use std::time::Duration;

    use super::*;

    fn config(settings: &str) -> Config {
        let text = format!("{settings}\n[[feed]]\nurl = \"https://example.com/feed\"\n");
        Config::parse(Path::new("/tmp/feedsift.toml"), &text).expect("valid config")
    }

    #[test]
    fn at_most_one_document_per_core_is_parsed_at_once() {
        let cores = std::thread::available_parallelism().map_or(1, NonZero::get);
        let slots = |concurrency: usize| {
            let config = config(&format!("[fetch]\nconcurrency = {concurrency}"));
            parsing(&config).expect("threads").free_slots()
        };
        assert_eq!(slots(64), cores.min(64));
        assert_eq!(slots(1), 1);
    }

    #[tokio::test]
    async fn a_reload_replaces_the_poller_only_when_its_settings_change() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("feedsift.db")).expect("open");
        let old = config("");
        let poller = poller(&old, store, Arc::default()).expect("poller");
        let replaced =
            |settings: &str| poller_for_reload(&poller, &old, &config(settings)).expect("builds");

        assert!(
            replaced("[[output]]\nname = \"all\"").is_none(),
            "outputs alone keep the poller, and with it each host's politeness state"
        );
        let fewer = replaced("[storage]\nmax_items_per_feed = 5").expect("new limits");
        assert_eq!(fewer.parsing.limits.max_items, 5);
        let (release, released) = std::sync::mpsc::channel::<()>();
        let busy = poller.parsing.clone();
        let parse = tokio::spawn(async move {
            busy.run(Duration::from_secs(60), move |_| Ok(released.recv()))
                .await
        });
        while poller.parsing.free_slots() == parsers(&old) {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            fewer.parsing.free_slots(),
            parsers(&old) - 1,
            "a parse in flight under the old limits counts against the new ones' slots"
        );
        release.send(()).expect("release");
        parse
            .await
            .expect("join")
            .expect("parsed")
            .expect("released");
        let agent = replaced("[fetch]\nuser_agent = \"other/1\"").expect("a new client");
        assert!(agent.fetcher.shares_hosts_with(&poller.fetcher));
        let slower = replaced("[fetch]\nper_host_delay = \"5s\"").expect("a new client");
        assert!(!slower.fetcher.shares_hosts_with(&poller.fetcher));
        let one = replaced("[fetch]\nconcurrency = 1");
        if parsers(&old) > 1 {
            let one = one.expect("fewer parsing slots");
            assert_eq!(one.parsing.free_slots(), 1);
        } else {
            assert!(one.is_none(), "one core: one parsing slot either way");
        }
    }
}
