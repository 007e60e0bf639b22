//! Handlers for published feed documents and health.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use serde::Deserialize;

use super::{AppState, ServeError};
use crate::publish::{Channel, render_atom};

/// `?limit=N` on feed documents.
#[derive(Debug, Deserialize)]
pub struct FeedQuery {
    limit: Option<usize>,
}

/// Most entries one document may carry, whatever `?limit=` asks for.
const MAX_LIMIT: usize = 1000;

/// `GET /feeds/NAME.atom`
pub async fn output_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(query): Query<FeedQuery>,
) -> Result<impl IntoResponse, ServeError> {
    let (name, format) = file.rsplit_once('.').ok_or(ServeError::NotFound)?;
    if format != "atom" {
        return Err(ServeError::NotFound);
    }
    let output = state
        .config
        .output(name)
        .ok_or(ServeError::NotFound)?
        .clone();
    let limit = query.limit.unwrap_or(output.limit).clamp(1, MAX_LIMIT);
    let base = &state.config.server.base_url;
    let channel = Channel {
        title: output.title.clone(),
        self_url: base
            .join(&format!("feeds/{name}.atom"))
            .map_err(|e| ServeError::BadRequest(e.to_string()))?,
        page_url: base
            .join(&format!("feeds/{name}"))
            .map_err(|e| ServeError::BadRequest(e.to_string()))?,
    };
    let body = state
        .store
        .call(move |s| {
            let items = s.items_matching(output.filter.as_ref(), limit)?;
            Ok(render_atom(&channel, &items))
        })
        .await?;
    Ok((
        [(CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        body,
    ))
}

/// `GET /healthz`: 200 with a small JSON body while the database answers.
pub async fn healthz(State(state): State<AppState>) -> Result<impl IntoResponse, ServeError> {
    let items = state.store.call(|s| s.item_count()).await?;
    Ok(Json(serde_json::json!({
        "status": "ok",
        "feeds": state.config.feeds.len(),
        "items": items,
    })))
}
