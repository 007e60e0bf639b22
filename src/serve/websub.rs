//! `POST /websub`: subscribing to and unsubscribing from the published documents.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::hub::{HubError, callback_allowed, read_request};

/// Checks the request, verifies intent with the subscriber, then records it: `202 Accepted`
/// once verified; a 4xx naming the problem, and no state, otherwise.
pub async fn subscription(
    State(state): State<AppState>,
    axum::Form(fields): axum::Form<HashMap<String, String>>,
) -> Response {
    match subscribe(&state, &fields).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            if status.is_server_error() {
                tracing::error!(error = %e, "WebSub request failed");
                return (status, "internal error\n").into_response();
            }
            (status, format!("{e}\n")).into_response()
        }
    }
}

async fn subscribe(state: &AppState, fields: &HashMap<String, String>) -> Result<(), HubError> {
    let config = state.config();
    let request = read_request(fields, &config)?;
    if !callback_allowed(&request.callback, config.fetch.allow_private).await {
        return Err(HubError::PrivateCallback(request.callback));
    }
    state
        .hub
        .verify(&request, config.fetch.allow_private)
        .await?;
    let (topic, callback) = (request.topic.clone(), request.callback.to_string());
    if request.subscribe {
        let lease_until = chrono::Utc::now()
            + chrono::Duration::from_std(request.lease).unwrap_or(chrono::Duration::days(10));
        let secret = request.secret.clone();
        state
            .store
            .call(move |s| s.subscribe(&topic, &callback, secret.as_deref(), lease_until))
            .await?;
    } else {
        state
            .store
            .call(move |s| s.unsubscribe(&topic, &callback))
            .await?;
    }
    Ok(())
}
