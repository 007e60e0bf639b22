//! The config file: read once, validated once, then handed around as plain typed data.
//! Nothing else in feedsift parses configuration strings.

mod raw;
mod toml_errors;
mod value;

pub use value::{DEFAULT_OUTPUT_LIMIT, MAX_OUTPUT_LIMIT};

use std::collections::HashSet;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use crate::filter::{self, Expr};
use crate::model::FeedName;
use raw::{RawConfig, RawFeed, RawOutput, Spanned};
use toml_errors::{in_user_words, keep, key_at, qualified, several, table_at, unknown_field};

/// Where `-c` is absent, the first of these that exists is used (after `$FEEDSIFT_CONFIG`).
const DEFAULT_LOCATIONS: [&str; 2] = ["feedsift.toml", "/etc/feedsift/feedsift.toml"];

/// A validated configuration with every default filled in.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub server: Server,
    pub storage: Storage,
    pub fetch: FetchConfig,
    pub feeds: Vec<FeedConfig>,
    pub outputs: Vec<OutputConfig>,
}

#[derive(Debug, Clone)]
pub struct Server {
    pub listen: SocketAddr,
    pub base_url: Url,
    /// How long readers and proxies may reuse a published document (`Cache-Control: max-age`).
    pub cache_max_age: Duration,
    /// External WebSub hubs told when an output changes (the "publish" ping).
    pub hubs: Vec<Url>,
}

#[derive(Debug, Clone)]
pub struct Storage {
    /// Absolute, or relative to the working directory; already resolved against the config's folder.
    pub path: PathBuf,
    pub retention: Duration,
    pub max_items_per_feed: u32,
}

/// How often a feed is polled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Fixed(Duration),
    /// Adapts to how often the feed publishes, within the configured bounds.
    Auto,
}

#[derive(Debug, Clone)]
pub struct FetchConfig {
    pub interval: Interval,
    pub min_interval: Duration,
    pub max_interval: Duration,
    pub timeout: Duration,
    pub max_body: u64,
    pub concurrency: usize,
    pub per_host: usize,
    pub per_host_delay: Duration,
    /// Longest wait between two polls of a failing feed.
    pub max_backoff: Duration,
    pub allow_private: bool,
    pub user_agent: String,
    /// Whether feeds fetch each new item's article by default.
    pub full_text: bool,
}

#[derive(Debug, Clone)]
pub struct FeedConfig {
    pub name: FeedName,
    /// What the feed is called in OPML exports (a reader's title for it).
    pub title: Option<String>,
    pub url: Url,
    pub tags: Vec<String>,
    pub interval: Interval,
    pub allow_private: bool,
    /// Items of this feed are near-merged with other feeds' items published within this
    /// window (`[dedup]`); `None`: never.
    pub near: Option<Duration>,
    /// Each new item's article is fetched and its main text kept.
    pub full_text: bool,
}

#[derive(Debug, Clone)]
pub struct OutputConfig {
    pub name: String,
    pub title: String,
    pub filter: Option<Expr>,
    pub limit: usize,
}

/// A config that cannot be used; always names the file and, where there is one, the line and key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read config: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("no config file: pass -c FILE, set FEEDSIFT_CONFIG, or create ./feedsift.toml")]
    NotFound,
    #[error("{path}:{line}: {key}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
    /// Every problem found, one per line, in the order of the file.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Several(Vec<ConfigError>),
}

impl Config {
    /// The config file to use: the explicit one, else `$FEEDSIFT_CONFIG`, else the default locations.
    pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, ConfigError> {
        if let Some(path) = explicit {
            return Ok(path.to_path_buf());
        }
        if let Some(path) = std::env::var_os("FEEDSIFT_CONFIG").filter(|p| !p.is_empty()) {
            return Ok(PathBuf::from(path));
        }
        DEFAULT_LOCATIONS
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .ok_or(ConfigError::NotFound)
    }

    /// Reads and validates the config file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
            path: path.to_path_buf(),
            cause,
        })?;
        Self::parse(path, &text)
    }

    /// Validates config text; `path` names it in errors and anchors relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let ctx = Context { path, text };
        let raw: RawConfig = toml::from_str(text).map_err(|e| ctx.toml_error(&e))?;
        ctx.build(raw)
    }

    /// What is valid but probably not what the user meant: no feeds, or an output filter
    /// that names a feed the config does not have.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.feeds.is_empty() {
            warnings.push("no [[feed]] is configured: nothing will be polled".to_string());
        }
        for output in &self.outputs {
            let names = output.filter.iter().flat_map(|f| f.feed_names());
            for name in names {
                if !self.feeds.iter().any(|f| f.name.as_str() == name) {
                    warnings.push(format!(
                        "output `{}`: its filter names `feed:{name}`, but no feed has that name",
                        output.name
                    ));
                }
            }
        }
        warnings
    }

    /// The output with this name, if configured.
    pub fn output(&self, name: &str) -> Option<&OutputConfig> {
        self.outputs.iter().find(|o| o.name == name)
    }
}

/// The file being validated, for turning spans into line numbers.
struct Context<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Context<'_> {
    fn line_of(&self, span: Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn invalid(&self, span: Range<usize>, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line: self.line_of(span),
            key: key.to_string(),
            message: message.into(),
        }
    }

    fn toml_error(&self, e: &toml::de::Error) -> ConfigError {
        let span = e.span().unwrap_or(0..0);
        let raw_message = e.message().trim();
        let table = table_at(self.text, span.start);
        let key = match (unknown_field(raw_message), key_at(self.text, span.start)) {
            (Some(field), _) => qualified(table.as_deref(), &field),
            (None, Some(key)) => qualified(table.as_deref(), &key),
            (None, None) => table.unwrap_or_else(|| "(document)".to_string()),
        };
        self.invalid(span, &key, in_user_words(raw_message, &key))
    }

    /// Validates every section, feed and output, reporting all that are wrong at once.
    fn build(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let mut errors = Vec::new();
        let fetch = keep(&mut errors, value::fetch(self, &raw.fetch));
        let server = keep(&mut errors, value::server(self, &raw.server));
        let storage = keep(&mut errors, value::storage(self, &raw.storage));
        let near = keep(&mut errors, value::dedup(self, &raw.dedup)).flatten();
        let mut names = HashSet::new();
        let reserved: HashSet<String> = raw
            .feed
            .iter()
            .filter_map(|f| f.name.as_ref().map(|n| n.get_ref().clone()))
            .collect();
        let feeds: Vec<Option<FeedConfig>> = match &fetch {
            Some(fetch) => raw
                .feed
                .iter()
                .map(|f| {
                    keep(
                        &mut errors,
                        self.feed(f, fetch, near, &mut names, &reserved),
                    )
                })
                .collect(),
            None => Vec::new(),
        };
        let mut output_names = HashSet::new();
        let outputs: Vec<Option<OutputConfig>> = raw
            .output
            .iter()
            .map(|o| keep(&mut errors, self.output(o, &mut output_names)))
            .collect();
        let (Some(fetch), Some(server), Some(storage)) = (fetch, server, storage) else {
            return Err(several(errors));
        };
        if !errors.is_empty() {
            return Err(several(errors));
        }
        let feeds: Vec<FeedConfig> = feeds.into_iter().flatten().collect();
        let outputs: Vec<OutputConfig> = outputs.into_iter().flatten().collect();
        Ok(Config {
            path: self.path.to_path_buf(),
            server,
            storage,
            fetch,
            feeds,
            outputs,
        })
    }

    /// One feed; a name derived from its URL avoids the names already taken and those
    /// given explicitly to any feed (`reserved`).
    fn feed(
        &self,
        raw: &RawFeed,
        fetch: &FetchConfig,
        near: Option<Duration>,
        names: &mut HashSet<String>,
        reserved: &HashSet<String>,
    ) -> Result<FeedConfig, ConfigError> {
        let url = value::feed_url(self, &raw.url)?;
        let name = match &raw.name {
            Some(name) => FeedName::new(name.get_ref())
                .map_err(|m| self.invalid(name.span(), "feed.name", m))?,
            None => FeedName::unique_from_url(&url, |n| names.contains(n) || reserved.contains(n))
                .ok_or_else(|| {
                    self.invalid(
                        raw.url.span(),
                        "feed.name",
                        "cannot derive a name from this URL; set `name`",
                    )
                })?,
        };
        if !names.insert(name.as_str().to_string()) {
            let span = raw.name.as_ref().map_or(raw.url.span(), Spanned::span);
            return Err(self.invalid(
                span,
                "feed.name",
                format!("duplicate feed name `{name}`; give each feed its own `name`"),
            ));
        }
        let tags = raw
            .tags
            .iter()
            .map(|t| value::tag(self, t))
            .collect::<Result<Vec<_>, _>>()?;
        let interval = match &raw.interval {
            Some(i) => value::interval(self, i, "feed.interval")?,
            None => fetch.interval,
        };
        Ok(FeedConfig {
            name,
            title: raw.title.clone().filter(|t| !t.trim().is_empty()),
            url,
            tags,
            interval,
            allow_private: raw.allow_private.unwrap_or(fetch.allow_private),
            near: near.filter(|_| raw.near.unwrap_or(true)),
            full_text: raw.full_text.unwrap_or(fetch.full_text),
        })
    }

    fn output(
        &self,
        raw: &RawOutput,
        names: &mut HashSet<String>,
    ) -> Result<OutputConfig, ConfigError> {
        let name = raw.name.get_ref();
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(self.invalid(
                raw.name.span(),
                "output.name",
                "must be letters, digits, `-` or `_` (it becomes part of a URL)",
            ));
        }
        if !names.insert(name.clone()) {
            return Err(self.invalid(
                raw.name.span(),
                "output.name",
                format!("duplicate output name `{name}`"),
            ));
        }
        let filter = match &raw.filter {
            Some(f) => Some(
                filter::parse(f.get_ref())
                    .map_err(|e| self.invalid(f.span(), "output.filter", e.to_string()))?,
            ),
            None => None,
        };
        let limit = match &raw.limit {
            Some(l) => value::count(self, l, "output.limit", 1..=value::MAX_OUTPUT_LIMIT)?,
            None => value::DEFAULT_OUTPUT_LIMIT,
        };
        Ok(OutputConfig {
            name: name.clone(),
            title: raw.title.clone().unwrap_or_else(|| name.clone()),
            filter,
            limit,
        })
    }
}

#[cfg(test)]
mod tests;
