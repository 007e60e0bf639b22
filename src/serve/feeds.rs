//! Handlers for published feed documents: outputs, tags and searches.

use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use url::Url;

use super::{AppState, ServeError};
use crate::filter::{self, Expr};
use crate::inspect::output_channel;
use crate::publish::{Channel, Format};

/// Entries in a tag or search document when `?limit=` is absent.
const DEFAULT_LIMIT: usize = 50;
/// Most entries one document may carry, whatever `?limit=` asks for.
const MAX_LIMIT: usize = 1000;

/// `?limit=N` (and `?q=EXPR` on searches).
#[derive(Debug, Deserialize)]
pub struct FeedQuery {
    limit: Option<usize>,
    q: Option<String>,
}

/// What one document shows.
struct Document {
    title: String,
    filter: Option<Expr>,
    self_url: Url,
    page_url: Url,
    format: Format,
    limit: usize,
}

/// `GET /feeds/NAME.atom|.rss|.json`
pub async fn output_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(query): Query<FeedQuery>,
) -> Result<Response, ServeError> {
    let (name, format) = split_format(&file)?;
    let output = state.config.output(name).ok_or(ServeError::NotFound)?;
    let channel = output_channel(&state.config, output, format);
    let doc = Document {
        title: channel.title,
        filter: output.filter.clone(),
        self_url: channel.self_url,
        page_url: channel.page_url,
        format,
        limit: query.limit.unwrap_or(output.limit),
    };
    render(&state, doc).await
}

/// `GET /tags/TAG.atom|.rss|.json`: every item with that tag.
pub async fn tag_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(query): Query<FeedQuery>,
) -> Result<Response, ServeError> {
    let (tag, format) = split_format(&file)?;
    let expr = filter::parse(&format!("#{tag}")).map_err(|_| ServeError::NotFound)?;
    let base = &state.config.server.base_url;
    let doc = Document {
        title: format!("#{tag}"),
        filter: Some(expr),
        self_url: join(base, &format!("tags/{file}"))?,
        page_url: join(base, "")?,
        format,
        limit: query.limit.unwrap_or(DEFAULT_LIMIT),
    };
    render(&state, doc).await
}

/// `GET /search.atom|.rss|.json?q=EXPR`: 400 with the parse error when EXPR is bad.
pub async fn search_feed(
    state: State<AppState>,
    format: Format,
    query: FeedQuery,
) -> Result<Response, ServeError> {
    let q = query.q.unwrap_or_default();
    let expr = filter::parse(&q).map_err(|e| ServeError::BadRequest(e.to_string()))?;
    let base = &state.config.server.base_url;
    let mut self_url = join(base, &format!("search.{}", format.extension()))?;
    self_url.query_pairs_mut().append_pair("q", &q);
    let doc = Document {
        title: format!("Search: {q}"),
        filter: Some(expr),
        self_url,
        page_url: join(base, "")?,
        format,
        limit: query.limit.unwrap_or(DEFAULT_LIMIT),
    };
    render(&state.0, doc).await
}

async fn render(state: &AppState, doc: Document) -> Result<Response, ServeError> {
    let limit = doc.limit.clamp(1, MAX_LIMIT);
    let channel = Channel {
        title: doc.title,
        self_url: doc.self_url,
        page_url: doc.page_url,
    };
    let (format, filter) = (doc.format, doc.filter);
    let body = state
        .store
        .call(move |s| {
            let items = s.items_matching(filter.as_ref(), limit)?;
            Ok(format.render(&channel, &items))
        })
        .await?;
    Ok(([(CONTENT_TYPE, format.content_type())], body).into_response())
}

/// "name.atom" → ("name", Atom); anything else is not a document we serve.
fn split_format(file: &str) -> Result<(&str, Format), ServeError> {
    let (name, ext) = file.rsplit_once('.').ok_or(ServeError::NotFound)?;
    let format = Format::from_extension(ext).ok_or(ServeError::NotFound)?;
    Ok((name, format))
}

fn join(base: &Url, path: &str) -> Result<Url, ServeError> {
    base.join(path)
        .map_err(|e| ServeError::BadRequest(e.to_string()))
}
