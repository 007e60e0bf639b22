//! Commands that read what is stored: `query`, `explain` and `render`.

use crate::config::{Config, OutputConfig};
use crate::documents::Publication;
use crate::filter::Expr;
use crate::model::StoredItem;
use crate::publish::{Channel, Format};
use crate::store::{ItemDetail, SplitError, Store, StoreError};

/// How one filter expression judged one item, term by term.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub matched: bool,
    /// Each term as written and whether the item has it.
    pub terms: Vec<(String, bool)>,
}

/// Why an item is or is not in one output.
#[derive(Debug, Clone)]
pub struct OutputVerdict {
    pub output: String,
    pub filter: Option<String>,
    pub verdict: Verdict,
}

/// Everything `feedsift explain` shows.
#[derive(Debug, Clone)]
pub struct Explanation {
    pub detail: ItemDetail,
    pub outputs: Vec<OutputVerdict>,
}

/// Judges item `id` against `expr`, each term evaluated as outputs evaluate it.
pub fn judge(store: &Store, id: i64, expr: &Expr) -> Result<Verdict, StoreError> {
    let mut terms = Vec::new();
    for term in expr.terms() {
        terms.push((term.to_string(), store.item_matches(id, term)?));
    }
    Ok(Verdict {
        matched: store.item_matches(id, expr)?,
        terms,
    })
}

/// The item named by `needle` (entry id, URL, guid or hash) and its verdict in every output.
pub fn explain(
    store: &Store,
    config: &Config,
    needle: &str,
) -> Result<Option<Explanation>, StoreError> {
    let canonical = crate::process::canonical_link(needle, None);
    let Some(id) = store.find_item(needle, canonical.as_deref())? else {
        return Ok(None);
    };
    let Some(detail) = store.item_detail(id)? else {
        return Ok(None);
    };
    let mut outputs = Vec::new();
    for output in &config.outputs {
        let verdict = match &output.filter {
            Some(expr) => judge(store, id, expr)?,
            None => Verdict {
                matched: true,
                terms: Vec::new(),
            },
        };
        outputs.push(OutputVerdict {
            output: output.name.clone(),
            filter: output.filter.as_ref().map(Expr::to_string),
            verdict,
        });
    }
    Ok(Some(Explanation { detail, outputs }))
}

/// Undoes a near merge for good: `feed`'s copy of the item `needle` names (as `explain` finds
/// items) becomes an item of its own. Returns the new item's entry id.
pub fn split(
    store: &Store,
    needle: &str,
    feed: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, SplitError> {
    let canonical = crate::process::canonical_link(needle, None);
    let id = store
        .find_item(needle, canonical.as_deref())?
        .ok_or_else(|| SplitError::NoItem(needle.to_string()))?;
    store.split(id, feed, now)
}

/// The newest `limit` items matching `expr`, with a verdict for each when `explain` is set.
pub fn query(
    store: &Store,
    expr: &Expr,
    limit: usize,
    explain: bool,
) -> Result<Vec<(StoredItem, Option<Verdict>)>, StoreError> {
    let mut results = Vec::new();
    for id in store.matching_ids(Some(expr), limit)? {
        let Some(detail) = store.item_detail(id)? else {
            continue;
        };
        let verdict = if explain {
            Some(judge(store, id, expr)?)
        } else {
            None
        };
        results.push((detail.item, verdict));
    }
    Ok(results)
}

/// One output as a document, exactly as the server would serve it.
pub fn render_output(
    store: &Store,
    config: &Config,
    output: &OutputConfig,
    format: Format,
) -> Result<String, StoreError> {
    let doc = Publication::output(output);
    doc.update_archive(store, &config.server.base_url)?;
    doc.render(store, &config.server.base_url, Some(format))
}

/// The title and URLs of a search's document.
pub fn search_channel(config: &Config, expr: &Expr, format: Format) -> Channel {
    let doc = Publication::search(&expr.to_string(), expr.clone());
    Channel::new(
        &config.server.base_url,
        doc.title,
        &doc.path,
        doc.query.as_deref(),
        Some(format),
    )
}
