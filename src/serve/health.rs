//! `GET /healthz`.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::AppState;

/// The scheduler looks for due feeds every second; this much silence means it is stuck.
const STALLED_AFTER_SECONDS: i64 = 60;

/// 200 with a small JSON body while the database answers, polls are recorded in it and the
/// scheduler runs; 503 with the problem otherwise.
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    // Counting items would scan a large table on every probe; asking the database's change
    // counter proves it answers, cheaply.
    let database = state.store.call(|s| s.data_version()).await;
    let last_tick = state.heartbeat().load(Ordering::Relaxed);
    let stalled =
        last_tick > 0 && chrono::Utc::now().timestamp() - last_tick > STALLED_AFTER_SECONDS;
    let problem = match (&database, stalled) {
        (Err(e), _) => Some(format!("database: {e}")),
        (Ok(_), true) => Some("scheduler stalled".to_string()),
        // The database answers reads, yet polls cannot be written (a full disk, a read-only
        // file system): nothing new reaches the outputs.
        (Ok(_), false) => state
            .metrics()
            .unrecorded()
            .map(|e| format!("polls cannot be recorded: {e}")),
    };
    let status = if problem.is_none() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "status": if problem.is_none() { "ok" } else { "unhealthy" },
        "problem": problem,
        "feeds": state.config().feeds.len(),
    });
    (status, Json(body))
}
