//! The HTTP surface (axum): every route in one table, one error → response mapping.

mod feeds;
mod health;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::publish::Format;
use crate::store::{Store, StoreError};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
}

/// Every route of the daemon.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/feeds/{file}", get(feeds::output_feed))
        .route("/tags/{file}", get(feeds::tag_feed))
        .route(
            "/search.atom",
            get(|s: State<AppState>, q: Query<feeds::FeedQuery>| {
                feeds::search_feed(s, Format::Atom, q.0)
            }),
        )
        .route(
            "/search.rss",
            get(|s: State<AppState>, q: Query<feeds::FeedQuery>| {
                feeds::search_feed(s, Format::Rss, q.0)
            }),
        )
        .route(
            "/search.json",
            get(|s: State<AppState>, q: Query<feeds::FeedQuery>| {
                feeds::search_feed(s, Format::Json, q.0)
            }),
        )
        .with_state(state)
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
