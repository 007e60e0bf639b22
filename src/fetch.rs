//! Retrieval of feed documents over HTTP(S) and from `file://` URLs, with a timeout and a
//! body-size cap that counts decompressed bytes.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use tokio::io::AsyncReadExt;
use url::Url;

/// Most redirects one poll follows (RFC 9110 §15.4 leaves it to the client; browsers use ~20).
const MAX_REDIRECTS: usize = 10;

/// The cache validators of a response, sent back on the next poll.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What a poll brought back.
#[derive(Debug)]
pub enum Fetched {
    /// A new document, to be parsed.
    Modified {
        body: Vec<u8>,
        validators: Validators,
    },
    /// The server said 304: nothing changed since the validators we sent.
    NotModified,
}

/// Why a document could not be fetched; stored on the feed as its last error.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("HTTP {0}")]
    Status(StatusCode),
    #[error("body larger than {0} bytes")]
    TooLarge(u64),
    #[error("cannot read {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("request failed: {0}")]
    Request(String),
}

/// Settings of the HTTP client.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    pub timeout: Duration,
    pub max_body: u64,
    pub user_agent: String,
}

/// Fetches documents; cheap to clone, shares one connection pool.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    settings: FetchSettings,
}

impl Fetcher {
    pub fn new(settings: FetchSettings) -> Result<Fetcher, reqwest::Error> {
        let client = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .no_proxy()
            .build()?;
        Ok(Fetcher { client, settings })
    }

    /// Fetches `url`, conditionally when validators from the last poll are given.
    pub async fn fetch(&self, url: &Url, validators: &Validators) -> Result<Fetched, FetchError> {
        if url.scheme() == "file" {
            return self.fetch_file(url).await;
        }
        let mut request = self.client.get(url.clone());
        if let Some(etag) = &validators.etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(date) = &validators.last_modified {
            request = request.header(IF_MODIFIED_SINCE, date);
        }
        let mut response = request.send().await.map_err(|e| self.classify(e))?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(FetchError::Status(status));
        }
        let validators = validators_of(response.headers());
        let limit = self.settings.max_body;
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(FetchError::TooLarge(limit));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(e))? {
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(FetchError::TooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched::Modified { body, validators })
    }

    async fn fetch_file(&self, url: &Url) -> Result<Fetched, FetchError> {
        let path = url
            .to_file_path()
            .map_err(|()| FetchError::Request(format!("`{url}` is not a local file path")))?;
        let file_error = |source| FetchError::File {
            path: path.display().to_string(),
            source,
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
        Ok(Fetched::Modified {
            body,
            validators: Validators::default(),
        })
    }

    fn classify(&self, error: reqwest::Error) -> FetchError {
        if error.is_timeout() {
            FetchError::Timeout(self.settings.timeout)
        } else if error.is_connect() {
            FetchError::Connect(root_cause(&error))
        } else {
            FetchError::Request(root_cause(&error))
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
