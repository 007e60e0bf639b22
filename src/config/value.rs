//! Conversion of single config values (durations, sizes, URLs, counts) into typed values,
//! each error naming the key and line.

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::raw::{RawDedup, RawFetch, RawServer, RawStorage, Spanned};
use super::{ConfigError, Context, FetchConfig, Interval, Server, Storage};

/// Entries in a document when neither the output nor `?limit=` says.
pub const DEFAULT_OUTPUT_LIMIT: usize = 50;
/// Most entries one document carries, whatever the config or `?limit=` asks for.
pub const MAX_OUTPUT_LIMIT: usize = 1000;
const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

pub fn server(ctx: &Context, raw: &RawServer) -> Result<Server, ConfigError> {
    let listen = match &raw.listen {
        Some(l) => listen_address(l.get_ref()).ok_or_else(|| {
            ctx.invalid(
                l.span(),
                "server.listen",
                format!(
                    "`{}` is not an address like 127.0.0.1:8080 or localhost:8080",
                    l.get_ref()
                ),
            )
        })?,
        None => DEFAULT_LISTEN
            .parse()
            .expect("the default listen address is valid"),
    };
    let base_url = match &raw.base_url {
        Some(b) => match Url::parse(b.get_ref()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            _ => {
                return Err(ctx.invalid(
                    b.span(),
                    "server.base_url",
                    format!("`{}` is not an http(s) URL", b.get_ref()),
                ));
            }
        },
        None => default_base_url(listen),
    };
    let cache_max_age = opt_duration(ctx, &raw.cache_max_age, "server.cache_max_age", "5m")?;
    let hubs = raw
        .hubs
        .iter()
        .map(|h| match Url::parse(h.get_ref()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(url),
            _ => Err(ctx.invalid(
                h.span(),
                "server.hubs",
                format!("`{}` is not an http(s) URL", h.get_ref()),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Server {
        listen,
        base_url,
        cache_max_age,
        hubs,
    })
}

/// An address and port, or a host name and port (`localhost:8080`), resolved once: names
/// that resolve to several addresses listen on the first, preferring IPv4.
fn listen_address(text: &str) -> Option<SocketAddr> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(addr);
    }
    let (host, port) = text.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    if host.is_empty() || host.contains(char::is_whitespace) {
        return None;
    }
    let addrs: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(text)
        .ok()?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
}

/// Self links point at where the server listens, with "localhost" for loopback and any-address.
fn default_base_url(listen: SocketAddr) -> Url {
    let host = if listen.ip().is_loopback() || listen.ip().is_unspecified() {
        "localhost".to_string()
    } else if listen.is_ipv6() {
        format!("[{}]", listen.ip())
    } else {
        listen.ip().to_string()
    };
    Url::parse(&format!("http://{host}:{}", listen.port()))
        .expect("a host and port form a valid URL")
}

pub fn storage(ctx: &Context, raw: &RawStorage) -> Result<Storage, ConfigError> {
    let path = PathBuf::from(raw.path.as_deref().unwrap_or("feedsift.db"));
    let path = if path.is_relative() {
        ctx.path
            .parent()
            .map_or(path.clone(), |dir| dir.join(&path))
    } else {
        path
    };
    Ok(Storage {
        path,
        retention: opt_duration(ctx, &raw.retention, "storage.retention", "90d")?,
        max_items_per_feed: match &raw.max_items_per_feed {
            Some(n) => count(ctx, n, "storage.max_items_per_feed", 1..=10_000_000)? as u32,
            None => 2000,
        },
    })
}

/// Copies of a story published further apart than this are two stories, unless configured.
const DEFAULT_NEAR_WINDOW: &str = "3d";

/// The window within which feeds' items are near-merged; `None` when `[dedup] near = false`.
pub fn dedup(ctx: &Context, raw: &RawDedup) -> Result<Option<Duration>, ConfigError> {
    let window = opt_duration(
        ctx,
        &raw.near_window,
        "dedup.near_window",
        DEFAULT_NEAR_WINDOW,
    )?;
    Ok(raw.near.unwrap_or(true).then_some(window))
}

pub fn fetch(ctx: &Context, raw: &RawFetch) -> Result<FetchConfig, ConfigError> {
    let interval = match &raw.interval {
        Some(i) => interval(ctx, i, "fetch.interval")?,
        None => Interval::Fixed(Duration::from_secs(30 * 60)),
    };
    let min_interval = opt_duration(ctx, &raw.min_interval, "fetch.min_interval", "5m")?;
    let max_interval = opt_duration(ctx, &raw.max_interval, "fetch.max_interval", "24h")?;
    if min_interval > max_interval {
        let span = raw
            .min_interval
            .as_ref()
            .or(raw.max_interval.as_ref())
            .map_or(0..0, Spanned::span);
        return Err(ctx.invalid(
            span,
            "fetch.min_interval",
            "is larger than fetch.max_interval",
        ));
    }
    let max_body = match &raw.max_body {
        Some(s) => size(ctx, s, "fetch.max_body")?,
        None => 10 * 1024 * 1024,
    };
    Ok(FetchConfig {
        interval,
        min_interval,
        max_interval,
        timeout: opt_duration(ctx, &raw.timeout, "fetch.timeout", "20s")?,
        max_body,
        concurrency: opt_count(ctx, &raw.concurrency, "fetch.concurrency", 16)?,
        per_host: opt_count(ctx, &raw.per_host, "fetch.per_host", 2)?,
        per_host_delay: match &raw.per_host_delay {
            // Zero is meaningful here: no gap (a user's own hosts, benchmarks).
            Some(d) if humantime::parse_duration(d.get_ref()).is_ok_and(|d| d.is_zero()) => {
                Duration::ZERO
            }
            _ => opt_duration(ctx, &raw.per_host_delay, "fetch.per_host_delay", "1s")?,
        },
        max_backoff: opt_duration(ctx, &raw.max_backoff, "fetch.max_backoff", "7d")?,
        allow_private: raw.allow_private.unwrap_or(false),
        user_agent: raw.user_agent.clone().unwrap_or_else(default_user_agent),
        full_text: raw.full_text.unwrap_or(false),
    })
}

/// `feedsift/<version> (+<repository url>)`, so site owners can reach us.
fn default_user_agent() -> String {
    format!(
        "feedsift/{} (+{})",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_REPOSITORY")
    )
}

pub fn feed_url(ctx: &Context, raw: &Spanned<String>) -> Result<Url, ConfigError> {
    let bad = |why: &str| ctx.invalid(raw.span(), "feed.url", format!("`{}` {why}", raw.get_ref()));
    let url = Url::parse(raw.get_ref()).map_err(|e| bad(&format!("is not a valid URL: {e}")))?;
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(url),
        "file" => Ok(url),
        "http" | "https" => Err(bad("has no host")),
        _ => Err(bad("must be an http, https or file URL")),
    }
}

pub fn tag(ctx: &Context, raw: &Spanned<String>) -> Result<String, ConfigError> {
    let tag = raw.get_ref().trim().trim_start_matches('#').trim();
    if tag.is_empty() {
        return Err(ctx.invalid(raw.span(), "feed.tags", "a tag may not be empty"));
    }
    Ok(tag.to_string())
}

pub fn interval(ctx: &Context, raw: &Spanned<String>, key: &str) -> Result<Interval, ConfigError> {
    if raw.get_ref() == "auto" {
        return Ok(Interval::Auto);
    }
    duration(ctx, raw, key).map(Interval::Fixed)
}

fn opt_duration(
    ctx: &Context,
    raw: &Option<Spanned<String>>,
    key: &str,
    default: &str,
) -> Result<Duration, ConfigError> {
    match raw {
        Some(d) => duration(ctx, d, key),
        None => Ok(humantime::parse_duration(default).expect("defaults are valid durations")),
    }
}

fn duration(ctx: &Context, raw: &Spanned<String>, key: &str) -> Result<Duration, ConfigError> {
    match humantime::parse_duration(raw.get_ref()) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err(ctx.invalid(raw.span(), key, "must be longer than zero")),
        Err(_) => Err(ctx.invalid(
            raw.span(),
            key,
            format!(
                "`{}` is not a duration like 90s, 15m, 6h or 90d",
                raw.get_ref()
            ),
        )),
    }
}

fn size(ctx: &Context, raw: &Spanned<String>, key: &str) -> Result<u64, ConfigError> {
    match raw.get_ref().parse::<bytesize::ByteSize>() {
        Ok(s) if s.as_u64() > 0 => Ok(s.as_u64()),
        _ => Err(ctx.invalid(
            raw.span(),
            key,
            format!("`{}` is not a size like 512KiB or 10MiB", raw.get_ref()),
        )),
    }
}

fn opt_count(
    ctx: &Context,
    raw: &Option<Spanned<i64>>,
    key: &str,
    default: usize,
) -> Result<usize, ConfigError> {
    raw.as_ref()
        .map_or(Ok(default), |n| count(ctx, n, key, 1..=4096))
}

pub fn count(
    ctx: &Context,
    raw: &Spanned<i64>,
    key: &str,
    range: RangeInclusive<usize>,
) -> Result<usize, ConfigError> {
    usize::try_from(*raw.get_ref())
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            ctx.invalid(
                raw.span(),
                key,
                format!(
                    "must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
}
