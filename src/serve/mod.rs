//! The HTTP surface (axum): every route in one table, one error → response mapping.

mod cache;
mod current;
mod deltas;
mod feeds;
mod health;
mod pages;
mod prometheus;
mod websub;

use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use arc_swap::ArcSwap;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::publish::Format;
use crate::store::{Store, StoreError};
use cache::DocumentCache;
use current::CurrentVersion;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    config: Arc<ArcSwap<Config>>,
    cache: Arc<DocumentCache>,
    /// The database version documents are served from.
    version: Arc<CurrentVersion>,
    /// When the scheduler last looked for due feeds (unix seconds; 0 = no scheduler here).
    heartbeat: Arc<AtomicI64>,
    metrics: Arc<Metrics>,
    /// The WebSub hub of the published documents.
    pub hub: Arc<Hub>,
    /// The last versions of each document, for deltas.
    versions: Arc<deltas::Versions>,
}

impl AppState {
    pub fn new(store: Store, config: Arc<Config>) -> AppState {
        AppState {
            store,
            config: Arc::new(ArcSwap::new(config)),
            cache: Arc::default(),
            version: Arc::default(),
            heartbeat: Arc::default(),
            metrics: Arc::default(),
            hub: Arc::default(),
            versions: Arc::default(),
        }
    }

    /// Shares the poller's counters, so `/metrics` shows them.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> AppState {
        self.metrics = metrics;
        self
    }

    /// The config in force now.
    pub fn config(&self) -> Arc<Config> {
        self.config.load_full()
    }

    /// Puts a new config in force at once: outputs and filters change with the next request.
    pub fn replace_config(&self, config: Config) {
        self.config.store(Arc::new(config));
        self.cache.clear();
    }

    /// The daemon's counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Where the scheduler reports that it is alive, for `/healthz`.
    pub fn heartbeat(&self) -> Arc<AtomicI64> {
        self.heartbeat.clone()
    }
}

/// Every route of the daemon.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::status))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(prometheus::metrics))
        .route("/opml", get(pages::subscriptions))
        .route("/stories/{id}", get(pages::story))
        .route("/feeds/{file}", get(feeds::output_feed))
        .route("/feeds/{name}/archive/{file}", get(feeds::archive_page))
        .route("/tags/{file}", get(feeds::tag_feed))
        .route("/websub", axum::routing::post(websub::subscription))
        .route("/search", get(search(None)))
        .route("/search.atom", get(search(Some(Format::Atom))))
        .route("/search.rss", get(search(Some(Format::Rss))))
        .route("/search.json", get(search(Some(Format::Json))))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_responses,
        ))
        .layer(axum::middleware::map_response(protect_pages))
        .with_state(state)
}

type SearchFuture = std::pin::Pin<Box<dyn Future<Output = Result<Response, ServeError>> + Send>>;

/// The search handler for one format (`None`: the page).
fn search(
    format: Option<Format>,
) -> impl Fn(State<AppState>, Query<feeds::FeedQuery>, HeaderMap) -> SearchFuture + Clone {
    move |State(state), Query(query), headers| {
        Box::pin(feeds::search_feed(state, format, query, headers))
    }
}

/// What the browser may do with a page of ours: no script at all, styles inline, images
/// from the web; nothing else loads, no one frames it, no form posts away.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     img-src http: https: data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Security headers on every response: so even a sanitiser miss cannot run script on
/// feedsift's origin, next to `/opml` and `/metrics`.
async fn protect_pages(mut response: Response) -> Response {
    use axum::http::HeaderValue;
    use axum::http::header::{
        CONTENT_SECURITY_POLICY as CSP, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    };
    let headers = response.headers_mut();
    headers.insert(CSP, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// Counts every response by status for `/metrics`.
async fn count_responses(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    state.metrics.record_request(response.status().as_u16());
    response
}

/// Serves until `shutdown` fires, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

/// Why a request failed; internals are logged, never shown to clients.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IntoResponse for ServeError {
    fn into_response(self) -> Response {
        match self {
            ServeError::NotFound => (StatusCode::NOT_FOUND, "not found\n").into_response(),
            ServeError::BadRequest(why) => {
                (StatusCode::BAD_REQUEST, format!("{why}\n")).into_response()
            }
            ServeError::Store(e) => {
                tracing::error!(error = %e, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
            }
        }
    }
}
