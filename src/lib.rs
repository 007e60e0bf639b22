//! feedsift: a feed aggregator daemon.
//!
//! The pipeline, one module per stage:
//!
//! ```text
//! config → schedule → fetch → parse → process → store → publish / serve
//! ```
//!
//! - [`config`] reads and validates the TOML file once; everything else gets typed values.
//! - [`schedule`] decides when each feed is due and hands due feeds out.
//! - [`refresh`] is the only module where the stages meet: fetch → parse → process → store;
//!   [`relocate`] decides when a permanently redirected feed has moved.
//! - [`fetch`] retrieves documents (HTTP and `file://`), bounded in time and size, reaching
//!   only the address ranges a feed may reach.
//! - [`parse`] decodes bytes to UTF-8, parses them with feed-rs, and only when that fails or
//!   would lose items or text, repairs and converts old formats; out come [`model`] items.
//!   [`process`] normalises them, computes the content hash and extracts tags. Both are pure.
//! - [`retention`] prunes old items in the background, leaving tombstones.
//! - [`subscriptions`] moves OPML into and out of the config file.
//! - [`store`] holds all SQL; [`filter`] is the filter language, which `store` turns into SQL.
//! - [`daemon`] is `feedsift run`: tasks, signals, reload, systemd notification.
//! - [`publish`] renders documents; [`serve`] is the HTTP surface; [`inspect`] answers
//!   `query`, `explain` and `render`; [`report`] formats terminal output; [`app`] wires it together.
//!
//! Rules: stage modules depend on [`model`], not on each other; pure steps take `now` and
//! their inputs as parameters; a failing feed is data stored on the feed, not an error that
//! escapes.

pub mod app;
pub mod config;
pub mod daemon;
pub mod discover;
pub mod fetch;
pub mod filter;
pub mod inspect;
pub mod metrics;
pub mod model;
pub mod parse;
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
