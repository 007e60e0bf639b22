//! Published documents: outputs, tags and searches in every format, and their HTML pages.

use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use url::Url;

use super::cache::Rendered;
use super::{AppState, ServeError};
use crate::filter::{self, Expr};
use crate::publish::{Channel, Format, document_url, html};
use crate::store::{Store, StoreError};

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

/// What one document shows; `format` None is its HTML page.
struct Document {
    title: String,
    filter: Option<Expr>,
    /// The path of the document without extension: `feeds/NAME`, `tags/TAG`, `search`.
    path: String,
    /// Appended to every URL of the document (the search query).
    query: Option<String>,
    format: Option<Format>,
    limit: usize,
}

/// `GET /feeds/NAME.atom|.rss|.json`, and `GET /feeds/NAME` for the page.
pub async fn output_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(query): Query<FeedQuery>,
    headers: HeaderMap,
) -> Result<Response, ServeError> {
    let (name, format) = split_format(&file)?;
    let config = state.config();
    let output = config.output(name).ok_or(ServeError::NotFound)?;
    let doc = Document {
        title: output.title.clone(),
        filter: output.filter.clone(),
        path: format!("feeds/{name}"),
        query: None,
        format,
        limit: query.limit.unwrap_or(output.limit),
    };
    respond(&state, doc, &headers).await
}

/// `GET /tags/TAG.atom|.rss|.json` (and the page): every item with that tag.
pub async fn tag_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(query): Query<FeedQuery>,
    headers: HeaderMap,
) -> Result<Response, ServeError> {
    let (tag, format) = split_format(&file)?;
    // The path names a tag as people spell it ("Open AI", "open-ai"): matched by its key,
    // like any tag, not parsed as a filter expression.
    let tag = tag.trim_start_matches('#').trim();
    if tag.is_empty() {
        return Err(ServeError::NotFound);
    }
    let expr = Expr::Tag(tag.to_string());
    let doc = Document {
        title: format!("#{tag}"),
        filter: Some(expr),
        path: format!("tags/{tag}"),
        query: None,
        format,
        limit: query.limit.unwrap_or(DEFAULT_LIMIT),
    };
    respond(&state, doc, &headers).await
}

/// `GET /search.atom|.rss|.json?q=EXPR` (and `/search`, the page): 400 with the parse
/// error when EXPR is bad.
pub async fn search_feed(
    state: AppState,
    format: Option<Format>,
    query: FeedQuery,
    headers: HeaderMap,
) -> Result<Response, ServeError> {
    let q = query.q.unwrap_or_default();
    let expr = filter::parse(&q).map_err(|e| ServeError::BadRequest(e.to_string()))?;
    let doc = Document {
        title: format!("Search: {q}"),
        filter: Some(expr),
        path: "search".into(),
        query: Some(q),
        format,
        limit: query.limit.unwrap_or(DEFAULT_LIMIT),
    };
    respond(&state, doc, &headers).await
}

/// Serves the document from the cache while the database is unchanged, else renders it.
async fn respond(
    state: &AppState,
    doc: Document,
    headers: &HeaderMap,
) -> Result<Response, ServeError> {
    let limit = doc.limit.clamp(1, MAX_LIMIT);
    let ext = doc
        .format
        .map_or(String::new(), |f| format!(".{}", f.extension()));
    let key = format!(
        "{}{ext}?{}&{}",
        doc.path,
        limit,
        doc.query.as_deref().unwrap_or("")
    );
    let version = state.store.call(Store::data_version).await?;
    let config = state.config();
    let max_age = config.server.cache_max_age;
    if let Some(rendered) = state.cache.get(&key, version) {
        return Ok(rendered.respond(headers, max_age));
    }
    let base = config.server.base_url.clone();
    let rendered = state
        .store
        .call(move |s| render(s, &base, &doc, limit, version))
        .await?;
    let changed = state
        .cache
        .changed_at(&key, rendered.etag(), SystemTime::now());
    let rendered = Arc::new(rendered.changed_at(changed));
    state.cache.put(key, rendered.clone());
    Ok(rendered.respond(headers, max_age))
}

fn render(
    store: &Store,
    base: &Url,
    doc: &Document,
    limit: usize,
    version: i64,
) -> Result<Rendered, StoreError> {
    let items = store.items_matching(doc.filter.as_ref(), limit)?;
    let query = doc.query.as_deref();
    let channel = Channel::new(base, doc.title.clone(), &doc.path, query, doc.format);
    Ok(match doc.format {
        Some(format) => {
            let body = format.render(&channel, &items);
            Rendered::new(version, format.content_type(), body)
        }
        None => {
            let feeds: Vec<_> = Format::ALL
                .iter()
                .map(|f| {
                    (
                        *f,
                        document_url(base, &doc.path, query, Some(*f)).to_string(),
                    )
                })
                .collect();
            let nav = html::Nav {
                home: base.to_string(),
                search: document_url(base, "search", None, None).to_string(),
                query: doc.query.clone(),
            };
            let tag_url =
                |tag: &str| document_url(base, &format!("tags/{tag}"), None, None).to_string();
            let body = html::output_page(&channel, &feeds, &items, &nav, &tag_url);
            Rendered::new(version, "text/html; charset=utf-8", body)
        }
    })
}

/// "name.atom" → ("name", Some(Atom)); "name" → ("name", None) for the page.
fn split_format(file: &str) -> Result<(&str, Option<Format>), ServeError> {
    match file.rsplit_once('.') {
        Some((name, ext)) => Ok((
            name,
            Some(Format::from_extension(ext).ok_or(ServeError::NotFound)?),
        )),
        None => Ok((file, None)),
    }
}
