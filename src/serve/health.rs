//! `GET /healthz`.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::AppState;

/// The scheduler looks for due feeds every second; this much silence means it is stuck.
const STALLED_AFTER_SECONDS: i64 = 60;

/// 200 with a small JSON body while the database answers and the scheduler runs; 503 otherwise.
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    // Counting items would scan a large table on every probe; asking the database's change
    // counter proves it answers, cheaply.
    let database = state.store.call(|s| s.data_version()).await;
    let last_tick = state.heartbeat().load(Ordering::Relaxed);
    let stalled =
        last_tick > 0 && chrono::Utc::now().timestamp() - last_tick > STALLED_AFTER_SECONDS;
    let (status, problem) = match (&database, stalled) {
        (Err(e), _) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Some(format!("database: {e}")),
        ),
        (Ok(_), true) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("scheduler stalled".to_string()),
        ),
        (Ok(_), false) => (StatusCode::OK, None),
    };
    let body = serde_json::json!({
        "status": if problem.is_none() { "ok" } else { "unhealthy" },
        "problem": problem,
        "feeds": state.config().feeds.len(),
    });
    (status, Json(body))
}
