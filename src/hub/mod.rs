//! The WebSub hub of feedsift's own documents (W3C WebSub): a subscription is verified with
//! the subscriber, kept in the database with its lease, and each changed document is pushed
//! to its subscribers soon after a poll changes it — signed when they gave a secret, retried
//! with backoff, dropped after repeated failures or at lease end. External hubs named in
//! `[server] hubs` are told when an output changes. Callbacks obey the feeds' address policy.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use url::Url;

use crate::config::Config;
use crate::fetch::reach::PublicOnly;
use crate::publish::Format;
use crate::store::{Store, Subscription};

mod request;

pub use request::{HubError, HubRequest, callback_allowed, read_request, topic_document};

/// Deliveries failed in a row after which a subscriber is dropped.
pub const MAX_FAILURES: u32 = 5;
/// Longest a subscriber may take to answer a verification or a delivery.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries in flight at once.
const CONCURRENCY: usize = 16;
/// First wait after a failed delivery; it doubles with each failure in a row.
const FIRST_RETRY: Duration = Duration::from_secs(10);

/// The `X-Hub-Signature` of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// The hub: its HTTP clients and what it last told external hubs.
pub struct Hub {
    /// For callbacks that may be anywhere (`allow_private`).
    client: reqwest::Client,
    /// For callbacks that must be public: names resolve to public addresses only, so a
    /// name cannot pass the check and then connect somewhere private (DNS rebinding).
    public: reqwest::Client,
    pinged: Mutex<HashMap<String, String>>,
}

impl Default for Hub {
    fn default() -> Hub {
        Hub::new()
    }
}

impl Hub {
    pub fn new() -> Hub {
        let builder = || {
            reqwest::Client::builder()
                .timeout(TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .user_agent(concat!(
                    "feedsift/",
                    env!("CARGO_PKG_VERSION"),
                    " (WebSub hub)"
                ))
        };
        Hub {
            client: builder().build().unwrap_or_default(),
            public: builder()
                .dns_resolver(Arc::new(PublicOnly))
                .build()
                .unwrap_or_default(),
            pinged: Mutex::default(),
        }
    }

    /// The client for callbacks under `allow_private`.
    fn client_for(&self, allow_private: bool) -> &reqwest::Client {
        if allow_private {
            &self.client
        } else {
            &self.public
        }
    }

    /// Verification of intent: asks the subscriber to echo a random challenge.
    pub async fn verify(&self, request: &HubRequest, allow_private: bool) -> Result<(), HubError> {
        let challenge = uuid::Uuid::new_v4().simple().to_string();
        let mut url = request.callback.clone();
        url.query_pairs_mut()
            .append_pair(
                "hub.mode",
                if request.subscribe {
                    "subscribe"
                } else {
                    "unsubscribe"
                },
            )
            .append_pair("hub.topic", &request.topic)
            .append_pair("hub.challenge", &challenge)
            .append_pair("hub.lease_seconds", &request.lease.as_secs().to_string());
        let refused = |why: String| HubError::NotVerified(request.callback.clone(), why);
        let response = self
            .client_for(allow_private)
            .get(url)
            .send()
            .await
            .map_err(|e| refused(e.to_string()))?;
        if !response.status().is_success() {
            return Err(refused(format!("HTTP {}", response.status())));
        }
        let body = response.text().await.map_err(|e| refused(e.to_string()))?;
        if body.trim() != challenge {
            return Err(refused("the challenge was not echoed".into()));
        }
        Ok(())
    }

    /// One pass: drops ended or failing subscriptions, then pushes every document that
    /// changed since its subscribers last got it, and tells external hubs of changed outputs.
    pub async fn deliver_changes(&self, store: &Store, config: &Arc<Config>, now: DateTime<Utc>) {
        if let Err(e) = store
            .call(move |s| s.drop_subscriptions(now, MAX_FAILURES))
            .await
        {
            tracing::warn!(error = %e, "cannot drop ended WebSub subscriptions");
        }
        let subscriptions = match store.call(Store::subscriptions).await {
            Ok(subscriptions) => subscriptions,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the WebSub subscriptions");
                return;
            }
        };
        let mut documents: HashMap<String, Option<Topic>> = HashMap::new();
        let permits = Arc::new(Semaphore::new(CONCURRENCY));
        let mut deliveries = JoinSet::new();
        for subscription in subscriptions {
            if subscription.next_attempt > now {
                continue;
            }
            let document = match documents.get(&subscription.topic) {
                Some(document) => document.clone(),
                None => {
                    let rendered = render_topic(store, config, &subscription.topic).await;
                    documents.insert(subscription.topic.clone(), rendered.clone());
                    rendered
                }
            };
            let Some((format, body, etag)) = document else {
                continue;
            };
            if subscription.delivered.as_deref() == Some(etag.as_str()) {
                continue;
            }
            let allow_private = config.fetch.allow_private;
            let client = self.client_for(allow_private).clone();
            let (store, permits) = (store.clone(), permits.clone());
            let base = config.server.base_url.clone();
            deliveries.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let first = subscription.delivered.is_none();
                // A new subscriber starts from the document as it is: only changes are pushed.
                let delivered = first
                    || deliver(&client, &subscription, &base, format, &body, allow_private).await;
                let retry_at = (!delivered).then(|| now + retry_wait(subscription.failures));
                let (topic, callback) = (subscription.topic.clone(), subscription.callback.clone());
                let recorded = store
                    .call(move |s| s.record_delivery(&topic, &callback, &etag, retry_at))
                    .await;
                if let Err(e) = recorded {
                    tracing::warn!(error = %e, "cannot record a WebSub delivery");
                }
            });
        }
        while deliveries.join_next().await.is_some() {}
        self.ping_external_hubs(store, config).await;
    }

    /// Tells every `[server] hubs` hub of each output whose Atom document changed.
    async fn ping_external_hubs(&self, store: &Store, config: &Arc<Config>) {
        if config.server.hubs.is_empty() {
            return;
        }
        for output in &config.outputs {
            let topic = crate::publish::document_url(
                &config.server.base_url,
                &crate::documents::output_path(&output.name),
                None,
                Some(Format::Atom),
            )
            .to_string();
            let Some((_, _, etag)) = render_topic(store, config, &topic).await else {
                continue;
            };
            let before = self
                .pinged
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(topic.clone(), etag.clone());
            if before.is_none_or(|b| b == etag) {
                continue;
            }
            for hub in &config.server.hubs {
                let form = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("hub.mode", "publish")
                    .append_pair("hub.url", &topic)
                    .finish();
                let sent = self
                    .client
                    .post(hub.clone())
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(form)
                    .send()
                    .await;
                if let Err(e) = sent.and_then(reqwest::Response::error_for_status) {
                    tracing::warn!(hub = %hub, topic = %topic, error = %e, "cannot notify hub");
                }
            }
        }
    }
}

/// A topic's document as rendered now: its format, body and tag.
type Topic = (Format, Arc<Vec<u8>>, String);

/// The document a topic names, rendered now.
async fn render_topic(store: &Store, config: &Arc<Config>, topic: &str) -> Option<Topic> {
    let (doc, format) = topic_document(config, topic)?;
    let base = config.server.base_url.clone();
    let body = store
        .call(move |s| doc.render(s, &base, Some(format)))
        .await
        .ok()?;
    let etag = blake3::hash(body.as_bytes()).to_hex()[..32].to_string();
    Some((format, Arc::new(body.into_bytes()), etag))
}

/// POSTs the document to one subscriber; whether it took it (a 2xx).
async fn deliver(
    client: &reqwest::Client,
    subscription: &Subscription,
    base: &Url,
    format: Format,
    body: &[u8],
    allow_private: bool,
) -> bool {
    let Ok(callback) = Url::parse(&subscription.callback) else {
        return false;
    };
    if !callback_allowed(&callback, allow_private).await {
        return false;
    }
    let hub = base
        .join("websub")
        .map_or_else(|_| base.to_string(), String::from);
    let mut request = client
        .post(callback)
        .header(reqwest::header::CONTENT_TYPE, format.content_type())
        .header(
            reqwest::header::LINK,
            format!(
                "<{hub}>; rel=\"hub\", <{}>; rel=\"self\"",
                subscription.topic
            ),
        )
        .body(body.to_vec());
    if let Some(secret) = &subscription.secret {
        request = request.header("X-Hub-Signature", signature(secret, body));
    }
    match request.send().await {
        Ok(response) if response.status().is_success() => true,
        Ok(response) => {
            tracing::info!(callback = %subscription.callback, status = %response.status(), "WebSub delivery refused");
            false
        }
        Err(e) => {
            tracing::info!(callback = %subscription.callback, error = %e, "WebSub delivery failed");
            false
        }
    }
}

/// How long to wait after `failures` failed deliveries in a row.
fn retry_wait(failures: u32) -> chrono::Duration {
    let wait = FIRST_RETRY.saturating_mul(2u32.saturating_pow(failures.min(10)));
    chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_in_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn retries_back_off() {
        assert_eq!(retry_wait(0), chrono::Duration::seconds(10));
        assert_eq!(retry_wait(3), chrono::Duration::seconds(80));
    }
}
