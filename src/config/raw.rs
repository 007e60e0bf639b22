//! The config file exactly as written: serde structs that reject unknown keys and keep
//! the span of every value that is validated later, so errors can name the line.

use serde::Deserialize;
/// A value with the byte range it came from in the config file.
pub use toml::Spanned;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub storage: RawStorage,
    #[serde(default)]
    pub fetch: RawFetch,
    #[serde(default)]
    pub dedup: RawDedup,
    #[serde(default)]
    pub feed: Vec<RawFeed>,
    #[serde(default)]
    pub output: Vec<RawOutput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: Option<Spanned<String>>,
    pub base_url: Option<Spanned<String>>,
    pub cache_max_age: Option<Spanned<String>>,
    #[serde(default)]
    pub hubs: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStorage {
    pub path: Option<String>,
    pub retention: Option<Spanned<String>>,
    pub max_items_per_feed: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFetch {
    pub interval: Option<Spanned<String>>,
    pub min_interval: Option<Spanned<String>>,
    pub max_interval: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub max_body: Option<Spanned<String>>,
    pub concurrency: Option<Spanned<i64>>,
    pub per_host: Option<Spanned<i64>>,
    pub per_host_delay: Option<Spanned<String>>,
    pub max_backoff: Option<Spanned<String>>,
    pub allow_private: Option<bool>,
    pub user_agent: Option<String>,
    pub full_text: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDedup {
    pub near: Option<bool>,
    pub near_window: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeed {
    pub url: Spanned<String>,
    pub name: Option<Spanned<String>>,
    pub title: Option<String>,
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
    pub interval: Option<Spanned<String>>,
    pub allow_private: Option<bool>,
    pub near: Option<bool>,
    pub full_text: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    pub name: Spanned<String>,
    pub title: Option<String>,
    pub filter: Option<Spanned<String>>,
    pub limit: Option<Spanned<i64>>,
}
