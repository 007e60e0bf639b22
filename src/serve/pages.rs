//! The status page and the subscription list.

use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{Html, IntoResponse};

use super::{AppState, ServeError};
use crate::documents::output_path;
use crate::publish::html::{Nav, OutputLink, status_page, story_page};
use crate::publish::{Format, document_url, opml};
use crate::subscriptions::configured;

/// `GET /`: outputs with their links and every configured feed's health.
pub async fn status(State(state): State<AppState>) -> Result<impl IntoResponse, ServeError> {
    let health = state.store.call(|s| s.feed_health()).await?;
    let config = state.config();
    let base = &config.server.base_url;
    let url = |path: &str, format| document_url(base, path, None, format).to_string();
    let outputs: Vec<OutputLink> = config
        .outputs
        .iter()
        .map(|o| (o, output_path(&o.name)))
        .map(|(o, path)| OutputLink {
            title: o.title.clone(),
            filter: o
                .filter
                .as_ref()
                .map_or("every item".to_string(), ToString::to_string),
            page_url: url(&path, None),
            feed_urls: Format::ALL
                .iter()
                .map(|f| (*f, url(&path, Some(*f))))
                .collect(),
        })
        .collect();
    let feeds: Vec<_> = health
        .into_iter()
        .filter(|h| config.feeds.iter().any(|f| f.name.as_str() == h.name))
        .collect();
    Ok(Html(status_page(
        &outputs,
        &feeds,
        &nav(base),
        chrono::Utc::now(),
    )))
}

/// `GET /stories/ID`: the timeline of one story (ID is its entry id's UUID).
pub async fn story(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ServeError> {
    let found = state.store.call(move |s| s.story(&id)).await?;
    let story = found.ok_or(ServeError::NotFound)?;
    let base = state.config().server.base_url.clone();
    Ok(Html(story_page(&story, &nav(&base))))
}

/// The navigation of pages that are not a search.
fn nav(base: &url::Url) -> Nav {
    Nav {
        home: base.to_string(),
        search: document_url(base, "search", None, None).to_string(),
        query: None,
    }
}

/// `GET /opml`: the configured feeds as OPML.
pub async fn subscriptions(State(state): State<AppState>) -> impl IntoResponse {
    let subs = configured(&state.config());
    (
        [(CONTENT_TYPE, "text/x-opml; charset=utf-8")],
        opml::render("feedsift subscriptions", &subs),
    )
}
