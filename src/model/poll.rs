//! A poll of a feed and what it came to: the one vocabulary of logs, metrics, the
//! database, health and summaries.

use chrono::{DateTime, Utc};

use super::Item;

/// What one poll of a feed came to, in one word: the `status` of log events, the `outcome`
/// label of metrics, the `last_status` column and the summaries' counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PollStatus {
    Fetched,
    NotModified,
    Failed,
    Gone,
}

impl PollStatus {
    pub const ALL: [PollStatus; 4] = [
        PollStatus::Fetched,
        PollStatus::NotModified,
        PollStatus::Failed,
        PollStatus::Gone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PollStatus::Fetched => "fetched",
            PollStatus::NotModified => "not_modified",
            PollStatus::Failed => "failed",
            PollStatus::Gone => "gone",
        }
    }

    /// The status stored as `as_str` gave it.
    pub fn parse(text: &str) -> Option<PollStatus> {
        PollStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// What one poll of a feed came to.
#[derive(Debug, Clone)]
pub enum PollOutcome {
    /// A document was fetched and parsed; its items are stored with it.
    Fetched {
        etag: Option<String>,
        last_modified: Option<String>,
        title: Option<String>,
        site_link: Option<String>,
        /// The document's guids were not trusted; links or hashes identified its items.
        guid_fallback: bool,
        /// What had to be repaired to read the document ("unescaped &, …"), if anything.
        repairs: Option<String>,
    },
    NotModified,
    Failed {
        reason: String,
    },
    /// HTTP 410: the feed was removed; it is not polled again until its URL changes.
    Gone,
}

impl PollOutcome {
    pub fn status(&self) -> PollStatus {
        match self {
            PollOutcome::Fetched { .. } => PollStatus::Fetched,
            PollOutcome::NotModified => PollStatus::NotModified,
            PollOutcome::Failed { .. } => PollStatus::Failed,
            PollOutcome::Gone => PollStatus::Gone,
        }
    }
}

/// Where a feed is fetched from, as permanent redirects have taught us.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// The URL polls go to instead of the configured one.
    pub effective_url: Option<String>,
    /// A permanent redirect to another host, seen `candidate_seen` polls in a row, not yet trusted.
    pub candidate: Option<String>,
    pub candidate_seen: u32,
}

/// One poll's writes, as the store records them.
#[derive(Debug, Clone)]
pub struct PollWrite {
    pub name: String,
    pub outcome: PollOutcome,
    pub items: Vec<Item>,
    pub now: DateTime<Utc>,
    pub next_poll: DateTime<Utc>,
    /// Items are near-merged with other feeds' items published within this window; `None`:
    /// never.
    pub near_window: Option<std::time::Duration>,
    /// New items' articles are to be fetched.
    pub full_text: bool,
}

impl PollWrite {
    /// Bytes of memory its items hold, roughly (see [`super::Item::bytes`]).
    pub fn bytes(&self) -> usize {
        self.items.iter().map(super::Item::bytes).sum()
    }
}

/// What storing one document's items did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestStats {
    /// Stories never seen before.
    pub new: usize,
    /// Known stories whose content changed.
    pub updated: usize,
    /// Stories already stored from another feed (or under another id): one more source.
    pub deduplicated: usize,
    /// Stories pruned earlier that the feed still carries; not stored again.
    pub pruned: usize,
}

/// A feed failing this many polls in a row is reported as broken (it is still retried).
pub const BROKEN_AFTER_FAILURES: u32 = 5;

/// One row of the health table.
#[derive(Debug, Clone)]
pub struct FeedHealth {
    pub name: String,
    pub url: String,
    pub last_poll: Option<DateTime<Utc>>,
    pub last_status: Option<PollStatus>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    pub next_poll: DateTime<Utc>,
    pub items: i64,
    /// Where permanent redirects moved the feed, when they did.
    pub effective_url: Option<String>,
    pub gone: bool,
    /// The feed's guids were not trusted in its last document.
    pub guid_fallback: bool,
    /// What had to be repaired to read its last document.
    pub repairs: Option<String>,
    /// The feed's own title and its site, as its last document gave them.
    pub title: Option<String>,
    pub site_link: Option<String>,
}

impl FeedHealth {
    /// The one-word state shown to users: `gone`, `broken`, else the last poll's status
    /// (`never polled` before the first).
    pub fn state(&self) -> &'static str {
        if self.gone {
            "gone"
        } else if self.consecutive_failures >= BROKEN_AFTER_FAILURES {
            "broken"
        } else {
            self.last_status.map_or("never polled", PollStatus::as_str)
        }
    }

    /// Whether the last poll brought the feed's document (or learnt it had not changed).
    pub fn up(&self) -> bool {
        matches!(
            self.last_status,
            Some(PollStatus::Fetched | PollStatus::NotModified)
        )
    }
}

/// Totals of one `feedsift poll`.
#[derive(Debug, Default, Clone, Copy)]
pub struct PollSummary {
    /// Feeds selected for this poll.
    pub selected: usize,
    pub fetched: usize,
    pub not_modified: usize,
    /// Failed, or gone.
    pub failed: usize,
    pub items: IngestStats,
}

impl PollSummary {
    /// Counts one feed's poll.
    pub fn count(&mut self, status: PollStatus, stats: IngestStats) {
        match status {
            PollStatus::Fetched => self.fetched += 1,
            PollStatus::NotModified => self.not_modified += 1,
            PollStatus::Failed | PollStatus::Gone => self.failed += 1,
        }
        self.items.new += stats.new;
        self.items.updated += stats.updated;
        self.items.deduplicated += stats.deduplicated;
        self.items.pruned += stats.pruned;
    }

    /// Feeds done so far.
    pub fn done(&self) -> usize {
        self.fetched + self.not_modified + self.failed
    }
}
