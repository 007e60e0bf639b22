//! feedsift: a feed aggregator daemon.
//!
//! The pipeline, one module per stage:
//!
//! ```text
//! config → schedule → fetch → parse → process → store → publish / serve
//! ```
//!
//! - [`config`] reads and validates the TOML file once; everything else gets typed values.
//! - [`schedule`] decides when each feed is due ([`schedule::next_poll`], pure) and runs the
//!   loop that hands due feeds out, reading the schedule through [`schedule::Schedule`].
//! - [`refresh`] is where the stages meet for one feed: fetch → parse → process → store.
//!   Documents are parsed on threads kept for parsing (`refresh::Parsing`: one per slot, so
//!   memory is bounded); [`relocate`] decides when a permanently redirected feed has moved;
//!   [`discover`] finds the feed a web page links. [`fulltext`] fetches the articles of new
//!   items of `full_text` feeds beside the polls, and [`article`] keeps a page's main text.
//! - [`fetch`] retrieves documents (HTTP and `file://`), bounded in time and size, reaching
//!   only the address ranges a feed may reach, at most `per_host` at a time and
//!   `per_host_delay` apart for each host (the host gates, `fetch::hosts`).
//! - [`parse`] decodes bytes to UTF-8, parses them with feed-rs, and only when that fails or
//!   would lose items or text, repairs and converts old formats; out come [`model`] items.
//!   No network, no database, no clock (the caller says when the document was fetched).
//! - [`process`] normalises items, computes the content hash, tags, and which links may be
//!   published; pure. [`near`] gives items the shape near-duplicate detection compares and
//!   judges two shapes (pure; the store looks up candidates). [`text`] holds the text normalisation and tag keys every stage shares.
//! - [`store`] holds all SQL: migrations, feeds, items with their sources and tags, the
//!   filter as SQL, and group commit (`store::Writer`: one thread writes every poll, many
//!   polls a transaction); the phrase index is a file of its own beside the store, written
//!   by a thread of its own once the writer has committed. [`retention`] prunes old items in the background.
//! - [`filter`] is the filter language. [`publish`] renders documents (Atom, RSS, JSON Feed,
//!   HTML, OPML), pure; [`documents`] describes each published document (output, tag,
//!   search) once, for the server and `feedsift render`, including outputs' archive pages;
//!   [`hub`] is the WebSub hub that pushes changed documents to their subscribers. [`serve`] is the HTTP surface: every route in one table, rendered
//!   documents kept in a response cache until the database changes.
//! - [`metrics`] counts what the daemon did, for `/metrics`. [`inspect`] answers `query`,
//!   `explain` and `render`; [`report`] formats terminal output; [`subscriptions`] moves OPML
//!   into and out of the config file.
//! - [`app`] is the wiring, and the only place that builds and connects the parts: the
//!   commands' store and poller, `feedsift poll`, and the daemon ([`app::daemon`]: tasks,
//!   signals, reload, systemd notification). [`arenas`] caps glibc's malloc arenas before
//!   anything runs.
//!
//! Rules: arrows point down the pipeline — [`model`] and [`text`] use nothing, stages use
//! [`model`] and not each other, only [`refresh`], [`serve`], [`inspect`] and [`app`]
//! combine stages (the allowed arrows are checked by `tests/it/architecture.rs`); pure steps
//! take `now` and their inputs as parameters; a failing feed is data stored on the feed, not
//! an error that escapes.

pub mod app;
pub mod arenas;
pub mod article;
pub mod config;
pub mod discover;
pub mod documents;
pub mod fetch;
pub mod filter;
pub mod fulltext;
pub mod hub;
pub mod inspect;
pub mod metrics;
pub mod model;
pub mod near;
pub mod parse;
pub mod priority;
pub mod process;
pub mod publish;
pub mod refresh;
pub mod relocate;
pub mod report;
pub mod retention;
pub mod schedule;
pub mod serve;
pub mod store;
pub mod subscriptions;
pub mod text;
