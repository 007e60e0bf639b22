//! `GET /healthz`.

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;

use super::{AppState, ServeError};

/// 200 with a small JSON body while the database answers.
pub async fn healthz(State(state): State<AppState>) -> Result<impl IntoResponse, ServeError> {
    let items = state.store.call(|s| s.item_count()).await?;
    Ok(Json(serde_json::json!({
        "status": "ok",
        "feeds": state.config.feeds.len(),
        "items": items,
    })))
}
