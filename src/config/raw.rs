//! The config file exactly as written: serde structs that reject unknown keys and keep
//! the span of every value that is validated later, so errors can name the line.

use serde::Deserialize;
use toml::Spanned;

/// A value with the byte range it came from in the config file.
pub type Sp<T> = Spanned<T>;

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
    pub feed: Vec<RawFeed>,
    #[serde(default)]
    pub output: Vec<RawOutput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: Option<Sp<String>>,
    pub base_url: Option<Sp<String>>,
    pub cache_max_age: Option<Sp<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStorage {
    pub path: Option<String>,
    pub retention: Option<Sp<String>>,
    pub max_items_per_feed: Option<Sp<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFetch {
    pub interval: Option<Sp<String>>,
    pub min_interval: Option<Sp<String>>,
    pub max_interval: Option<Sp<String>>,
    pub timeout: Option<Sp<String>>,
    pub max_body: Option<Sp<String>>,
    pub concurrency: Option<Sp<i64>>,
    pub per_host: Option<Sp<i64>>,
    pub per_host_delay: Option<Sp<String>>,
    pub max_backoff: Option<Sp<String>>,
    pub allow_private: Option<bool>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeed {
    pub url: Sp<String>,
    pub name: Option<Sp<String>>,
    pub title: Option<String>,
    #[serde(default)]
    pub tags: Vec<Sp<String>>,
    pub interval: Option<Sp<String>>,
    pub allow_private: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    pub name: Sp<String>,
    pub title: Option<String>,
    pub filter: Option<Sp<String>>,
    pub limit: Option<Sp<i64>>,
}
