//! A request to `/websub`: its fields checked, and the published document its topic names.

use std::collections::HashMap;
use std::time::Duration;

use url::Url;

use crate::config::Config;
use crate::documents::Publication;
use crate::fetch::reach::Reach;
use crate::filter;
use crate::publish::Format;
use crate::store::StoreError;

/// Leases granted when none is asked, and at most.
const DEFAULT_LEASE: Duration = Duration::from_secs(10 * 86_400);
const MAX_LEASE: Duration = Duration::from_secs(30 * 86_400);
/// Longest topic or callback URL, and longest secret (WebSub: under 200 bytes).
const MAX_URL: usize = 2048;
const MAX_SECRET: usize = 199;

/// Why a subscription request is refused.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("hub.mode must be subscribe or unsubscribe")]
    Mode,
    #[error("hub.{0} is missing")]
    Missing(&'static str),
    #[error("hub.{0} is too long")]
    TooLong(&'static str),
    #[error("hub.topic {0} is not a document of this feedsift")]
    UnknownTopic(String),
    #[error("hub.callback {0} is not an http(s) URL")]
    BadCallback(String),
    #[error("hub.callback {0} is on a loopback or private address ([fetch] allow_private is off)")]
    PrivateCallback(Url),
    #[error("the subscriber at {0} did not confirm: {1}")]
    NotVerified(Url, String),
    #[error("database: {0}")]
    Store(#[from] StoreError),
}

impl HubError {
    /// The HTTP status the request gets.
    pub fn status(&self) -> u16 {
        match self {
            HubError::TooLong(_) => 413,
            HubError::PrivateCallback(_) | HubError::NotVerified(..) => 403,
            HubError::Store(_) => 500,
            _ => 400,
        }
    }
}

/// A subscription request, checked.
#[derive(Debug, Clone)]
pub struct HubRequest {
    pub subscribe: bool,
    pub topic: String,
    pub callback: Url,
    pub lease: Duration,
    pub secret: Option<String>,
}

/// Reads and checks the form fields of a request to `/websub`.
pub fn read_request(
    fields: &HashMap<String, String>,
    config: &Config,
) -> Result<HubRequest, HubError> {
    let field = |name: &'static str| {
        fields
            .get(&format!("hub.{name}"))
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    let subscribe = match field("mode") {
        Some("subscribe") => true,
        Some("unsubscribe") => false,
        _ => return Err(HubError::Mode),
    };
    let topic = field("topic").ok_or(HubError::Missing("topic"))?;
    let callback = field("callback").ok_or(HubError::Missing("callback"))?;
    if topic.len() > MAX_URL {
        return Err(HubError::TooLong("topic"));
    }
    if callback.len() > MAX_URL {
        return Err(HubError::TooLong("callback"));
    }
    let secret = field("secret").map(str::to_string);
    if secret.as_ref().is_some_and(|s| s.len() > MAX_SECRET) {
        return Err(HubError::TooLong("secret"));
    }
    if topic_document(config, topic).is_none() {
        return Err(HubError::UnknownTopic(topic.to_string()));
    }
    let callback = Url::parse(callback)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| HubError::BadCallback(callback.to_string()))?;
    let lease = field("lease_seconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(DEFAULT_LEASE, Duration::from_secs)
        .clamp(Duration::from_secs(1), MAX_LEASE);
    Ok(HubRequest {
        subscribe,
        topic: topic.to_string(),
        callback,
        lease,
        secret,
    })
}

/// The published document a topic URL names, and its format: an output, a tag or a search
/// under `base_url`, in a feed format.
pub fn topic_document(config: &Config, topic: &str) -> Option<(Publication, Format)> {
    let url = Url::parse(topic).ok()?;
    let relative = url.as_str().strip_prefix(config.server.base_url.as_str())?;
    let path = relative.split(['?', '#']).next()?;
    let (name, ext) = path.rsplit_once('.')?;
    let format = Format::from_extension(ext)?;
    let doc = if let Some(output) = name.strip_prefix("feeds/") {
        Publication::output(config.output(output)?)
    } else if let Some(tag) = name.strip_prefix("tags/") {
        let tag = percent_decoded(tag);
        Publication::tag(tag.trim_start_matches('#').trim())
    } else if name == "search" {
        let q = url.query_pairs().find(|(k, _)| k == "q")?.1.into_owned();
        Publication::search(&q, filter::parse(&q).ok()?)
    } else {
        return None;
    };
    Some((doc, format))
}

fn percent_decoded(text: &str) -> String {
    url::form_urlencoded::parse(format!("t={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Whether the hub may call `callback`: public addresses always, others only with
/// `[fetch] allow_private` (as for feeds).
pub async fn callback_allowed(callback: &Url, allow_private: bool) -> bool {
    allow_private || Reach::PUBLIC.admits(callback).await
}
