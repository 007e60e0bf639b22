//! Published documents: outputs, tags and searches in every format, and their HTML pages.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::cache::Rendered;
use super::{AppState, ServeError};
use crate::documents::Publication;
use crate::filter;
use crate::publish::{ArchiveLinks, Format};

/// `?limit=N` (and `?q=EXPR` on searches).
#[derive(Debug, Deserialize)]
pub struct FeedQuery {
    limit: Option<usize>,
    q: Option<String>,
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
    let doc = Publication::output(output).limited(query.limit);
    respond(&state, doc, format, &headers).await
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
    let doc = Publication::tag(tag).limited(query.limit);
    respond(&state, doc, format, &headers).await
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
    // The search page with an empty box shows every item; a feed needs an expression.
    let doc = if format.is_none() && q.trim().is_empty() {
        Publication::everything()
    } else {
        let expr = filter::parse(&q).map_err(|e| ServeError::BadRequest(e.to_string()))?;
        Publication::search(&q, expr)
    };
    respond(&state, doc.limited(query.limit), format, &headers).await
}

/// Serves the document from the cache while the database is unchanged, else renders it
/// (see [`super::cache::DocumentCache::get_or_render`]); a client that asks for
/// a delta (`A-IM: feed`) from a version it holds gets only what changed.
async fn respond(
    state: &AppState,
    doc: Publication,
    format: Option<Format>,
    headers: &HeaderMap,
) -> Result<Response, ServeError> {
    let ext = format.map_or(String::new(), |f| format!(".{}", f.extension()));
    let key = format!(
        "{}{ext}?{}&{}",
        doc.path,
        doc.limit,
        doc.query.as_deref().unwrap_or("")
    );
    let version = state.version.get(&state.store).await?;
    let config = state.config();
    let base = config.server.base_url.clone();
    let rendered = state
        .cache
        .get_or_render(&key, version, || {
            render(state, &key, &doc, format, headers, version)
        })
        .await?;
    if let Some(format) = format
        && let Some(changed) = state.versions.delta_since(&key, headers, rendered.etag())
    {
        let body = state
            .store
            .call(move |s| {
                let items = doc.items(s)?;
                let items: Vec<_> = items
                    .into_iter()
                    .filter(|i| changed.contains(&i.entry_id))
                    .collect();
                // A delta carries only entries; its reader has the archive links already.
                Ok(doc.render_items(&items, &base, Some(format), &ArchiveLinks::default()))
            })
            .await?;
        return Ok(rendered.delta(body));
    }
    if !rendered.ready_for(headers) {
        let (document, wanted) = (rendered.clone(), headers.clone());
        // Should compressing panic, `respond` below tries again and fails the same way.
        let _ = tokio::task::spawn_blocking(move || document.compress_for(&wanted)).await;
    }
    Ok(rendered.respond(headers, config.server.cache_max_age))
}

/// Renders the document and compresses it as `headers` ask (so the requests served meanwhile
/// from the document kept need not wait for either), stamps when its content last changed,
/// keeps its entries for deltas, and caches it.
async fn render(
    state: &AppState,
    key: &str,
    doc: &Publication,
    format: Option<Format>,
    headers: &HeaderMap,
    version: i64,
) -> Result<Arc<Rendered>, ServeError> {
    let (doc, base, headers) = (
        doc.clone(),
        state.config().server.base_url.clone(),
        headers.clone(),
    );
    let content_type = format.map_or("text/html; charset=utf-8", Format::content_type);
    let (rendered, entries) = state
        .store
        .call(move |s| {
            let archive = match format {
                Some(format) => doc.archive(s, &base, format)?,
                None => ArchiveLinks::default(),
            };
            let items = doc.items(s)?;
            let entries: HashMap<String, i64> = items
                .iter()
                .map(|i| (i.entry_id.clone(), i.updated.timestamp()))
                .collect();
            let body = doc.render_items(&items, &base, format, &archive);
            let rendered = Rendered::new(version, content_type, body);
            rendered.compress_for(&headers);
            Ok((rendered, entries))
        })
        .await?;
    let changed = state
        .cache
        .changed_at(key, rendered.etag(), SystemTime::now());
    state.versions.remember(key, rendered.etag(), entries);
    let rendered = Arc::new(rendered.changed_at(changed));
    state.cache.put(key.to_string(), rendered.clone());
    Ok(rendered)
}

/// `GET /feeds/NAME/archive/N.atom|.rss|.json`: a kept archive page (RFC 5005), which
/// never changes once full, so caches may keep it for good.
pub async fn archive_page(
    State(state): State<AppState>,
    Path((name, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ServeError> {
    let (page, format) = split_format(&file)?;
    let (Ok(page), Some(format)) = (page.parse::<i64>(), format) else {
        return Err(ServeError::NotFound);
    };
    state.config().output(&name).ok_or(ServeError::NotFound)?;
    let body = state
        .store
        .call(move |s| s.archive_page(&name, page, format.extension()))
        .await?
        .ok_or(ServeError::NotFound)?;
    let rendered = Rendered::new(0, format.content_type(), body);
    let mut response = rendered.respond(&headers, Duration::from_secs(365 * 86_400));
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(response)
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
