//! Retrieval of feed documents over HTTP(S) and from `file://` URLs: conditional requests,
//! redirects followed by hand (so permanent moves can be recorded), per-host politeness, a
//! total time limit and a body-size cap that counts decompressed bytes.

mod hints;
mod hosts;
pub mod reach;

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION};
use tokio::io::AsyncReadExt;
use url::Url;

use reach::{PublicOnly, Reach};

pub use hosts::HostGate;

/// Most redirects one poll follows.
const MAX_REDIRECTS: usize = 10;

/// The cache validators of a response, sent back on the next poll.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// The document, or word that it did not change.
#[derive(Debug)]
pub enum Reply {
    /// A new document, to be parsed.
    Modified {
        body: Vec<u8>,
        validators: Validators,
        /// The `charset` of the response's Content-Type, which decoding follows.
        charset: Option<String>,
        /// The media type of the Content-Type (`text/html`), when the server gave one.
        media_type: Option<String>,
    },
    /// The server said 304: nothing changed since the validators we sent.
    NotModified,
}

/// What a successful poll brought back.
#[derive(Debug)]
pub struct Fetched {
    pub reply: Reply,
    /// How long the server says the response stays fresh (`Cache-Control`, `Expires`).
    pub fresh_for: Option<Duration>,
    /// Where the leading permanent redirects (301/308) of this poll point, if any.
    pub moved_to: Option<Url>,
}

/// Why a document could not be fetched; stored on the feed as its last error.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("cannot connect: {}", root_cause(.0))]
    Connect(reqwest::Error),
    #[error("HTTP {status}")]
    Status {
        status: StatusCode,
        /// `Retry-After` of a 429 or 503.
        retry_after: Option<Duration>,
    },
    #[error("HTTP 410 Gone: the feed was removed")]
    Gone,
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("redirect loop at {0}")]
    RedirectLoop(Url),
    #[error("redirect without a usable Location")]
    BadRedirect,
    #[error("redirect to a private address {0} refused (set allow_private for this feed)")]
    PrivateAddress(Url),
    #[error("body larger than {0} bytes")]
    TooLarge(u64),
    #[error("cannot read {path}: {cause}")]
    File { path: String, cause: std::io::Error },
    #[error("request failed: {}", root_cause(.0))]
    Request(reqwest::Error),
    #[error("`{0}` is not a local file path")]
    NotAFilePath(Url),
}

impl FetchError {
    /// How long the server asked us to wait, when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Settings of the HTTP client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchSettings {
    pub timeout: Duration,
    pub max_body: u64,
    pub user_agent: String,
    pub per_host: usize,
    pub per_host_delay: Duration,
}

/// Fetches documents; cheap to clone, shares one connection pool and one host gate.
#[derive(Debug, Clone)]
pub struct Fetcher {
    /// For feeds that may reach public addresses only: resolves through `PublicOnly`.
    public: reqwest::Client,
    /// For feeds on a private network (or with `allow_private`).
    open: reqwest::Client,
    settings: FetchSettings,
    hosts: std::sync::Arc<HostGate>,
}

impl Fetcher {
    pub fn new(settings: FetchSettings) -> Result<Fetcher, reqwest::Error> {
        let hosts = std::sync::Arc::new(HostGate::new(settings.per_host, settings.per_host_delay));
        Fetcher::with_hosts(settings, hosts)
    }

    /// A fetcher under new settings that keeps this one's host gate when the per-host limits
    /// are unchanged, so polls in flight and new ones still count against the same limits.
    pub fn reconfigured(&self, settings: FetchSettings) -> Result<Fetcher, reqwest::Error> {
        let same_limits = (settings.per_host, settings.per_host_delay)
            == (self.settings.per_host, self.settings.per_host_delay);
        if same_limits {
            Fetcher::with_hosts(settings, self.hosts.clone())
        } else {
            Fetcher::new(settings)
        }
    }

    /// Whether the two fetchers share one host gate.
    #[cfg(test)]
    pub(crate) fn shares_hosts_with(&self, other: &Fetcher) -> bool {
        std::sync::Arc::ptr_eq(&self.hosts, &other.hosts)
    }

    fn with_hosts(
        settings: FetchSettings,
        hosts: std::sync::Arc<HostGate>,
    ) -> Result<Fetcher, reqwest::Error> {
        let builder = || {
            reqwest::Client::builder()
                .user_agent(settings.user_agent.clone())
                .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
                .read_timeout(settings.timeout)
                // RFC 9110 §15.4.2: a 301 means "update your stored URL", which only we can do.
                .redirect(reqwest::redirect::Policy::none())
                // No idle connection is kept: each keeps its read buffer (up to ~400 KB), and
                // polls of one host are minutes apart. Kept, a cold poll's connections to 64
                // hosts held 40 MB of a 90 MB peak.
                .pool_max_idle_per_host(0)
                .no_proxy()
        };
        let public = builder()
            .dns_resolver(std::sync::Arc::new(PublicOnly))
            .build()?;
        let open = builder().build()?;
        Ok(Fetcher {
            public,
            open,
            settings,
            hosts,
        })
    }

    /// Fetches `url`, conditionally when validators from the last poll are given, within the
    /// configured timeout for the whole poll (redirects and body included).
    pub async fn fetch(
        &self,
        url: &Url,
        validators: &Validators,
        allow_private: bool,
    ) -> Result<Fetched, FetchError> {
        if url.scheme() == "file" {
            return self.fetch_file(url).await;
        }
        let limit = self.settings.timeout;
        tokio::time::timeout(limit, self.fetch_http(url, validators, allow_private))
            .await
            .unwrap_or(Err(FetchError::Timeout(limit)))
    }

    async fn fetch_http(
        &self,
        url: &Url,
        validators: &Validators,
        allow_private: bool,
    ) -> Result<Fetched, FetchError> {
        let reach = Reach::of_feed(url, allow_private).await;
        let client = if reach == Reach::PUBLIC {
            &self.public
        } else {
            &self.open
        };
        let mut current = url.clone();
        let mut seen = HashSet::from([current.clone()]);
        let mut moved_to = None;
        let mut permanent_so_far = true;
        for _ in 0..=MAX_REDIRECTS {
            let host = current.host_str().unwrap_or_default().to_string();
            let permit = self.hosts.enter(&host).await;
            let mut response = self.request(client, &current, validators).await?;
            let status = response.status();
            if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
                let result = self.finish(&mut response, status).await;
                drop(permit);
                return result.map(|(reply, fresh_for)| Fetched {
                    reply,
                    fresh_for,
                    moved_to,
                });
            }
            drop(permit);
            let next = response
                .headers()
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| current.join(l).ok())
                .ok_or(FetchError::BadRedirect)?;
            if !reach.admits(&next).await {
                return Err(FetchError::PrivateAddress(next));
            }
            if !seen.insert(next.clone()) {
                return Err(FetchError::RedirectLoop(next));
            }
            let permanent = matches!(
                status,
                StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT
            );
            permanent_so_far &= permanent;
            if permanent_so_far {
                moved_to = Some(next.clone());
            }
            current = next;
        }
        Err(FetchError::TooManyRedirects)
    }

    async fn request(
        &self,
        client: &reqwest::Client,
        url: &Url,
        validators: &Validators,
    ) -> Result<reqwest::Response, FetchError> {
        let mut request = client.get(url.clone());
        if let Some(etag) = &validators.etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(date) = &validators.last_modified {
            request = request.header(IF_MODIFIED_SINCE, date);
        }
        request.send().await.map_err(|e| self.classify(e))
    }

    /// The final response of a poll: what it brought and how long it stays fresh, or why it failed.
    async fn finish(
        &self,
        response: &mut reqwest::Response,
        status: StatusCode,
    ) -> Result<(Reply, Option<Duration>), FetchError> {
        let now = SystemTime::now();
        let fresh_for = hints::freshness(response.headers(), now);
        if status == StatusCode::NOT_MODIFIED {
            return Ok((Reply::NotModified, fresh_for));
        }
        if status == StatusCode::GONE {
            return Err(FetchError::Gone);
        }
        if !status.is_success() {
            let retry_after = hints::retry_after(response.headers(), now);
            return Err(FetchError::Status {
                status,
                retry_after,
            });
        }
        let validators = validators_of(response.headers());
        let charset = hints::charset(response.headers());
        let media_type = hints::media_type(response.headers());
        let limit = self.settings.max_body;
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(FetchError::TooLarge(limit));
        }
        // Sized once when the server says how much comes: growing by doubling would hold up to
        // twice the body.
        let mut body = Vec::with_capacity(
            response
                .content_length()
                .and_then(|len| usize::try_from(len).ok())
                .unwrap_or(0),
        );
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(e))? {
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(FetchError::TooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        let reply = Reply::Modified {
            body,
            validators,
            charset,
            media_type,
        };
        Ok((reply, fresh_for))
    }

    async fn fetch_file(&self, url: &Url) -> Result<Fetched, FetchError> {
        let path = url
            .to_file_path()
            .map_err(|()| FetchError::NotAFilePath(url.clone()))?;
        let file_error = |cause| FetchError::File {
            path: path.display().to_string(),
            cause,
        };
        let file = tokio::fs::File::open(&path).await.map_err(file_error)?;
        let limit = self.settings.max_body;
        let mut body = Vec::new();
        file.take(limit + 1)
            .read_to_end(&mut body)
            .await
            .map_err(file_error)?;
        if body.len() as u64 > limit {
            return Err(FetchError::TooLarge(limit));
        }
        Ok(Fetched {
            reply: Reply::Modified {
                body,
                validators: Validators::default(),
                charset: None,
                media_type: None,
            },
            fresh_for: None,
            moved_to: None,
        })
    }

    fn classify(&self, error: reqwest::Error) -> FetchError {
        if error.is_timeout() {
            FetchError::Timeout(self.settings.timeout)
        } else if error.is_connect() {
            FetchError::Connect(error)
        } else {
            FetchError::Request(error)
        }
    }
}

fn validators_of(headers: &HeaderMap) -> Validators {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    Validators {
        etag: header(ETAG),
        last_modified: header(LAST_MODIFIED),
    }
}

/// The innermost error's message ("Connection refused (os error 111)"), which says the most.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}
