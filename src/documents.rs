//! The published documents — an output, a tag, a search — described once: what each shows,
//! where it is served, and how it is rendered from the store, in a feed format or as its
//! page. The server and `feedsift render` both render through here.

use url::Url;

use crate::config::{DEFAULT_OUTPUT_LIMIT, MAX_OUTPUT_LIMIT, OutputConfig};
use crate::filter::Expr;
use crate::model::StoredItem;
use crate::publish::{ArchiveLinks, Channel, Format, document_url, html};
use crate::store::{Store, StoreError};

/// One published document, in any format.
#[derive(Debug, Clone)]
pub struct Publication {
    pub title: String,
    /// Which items it shows; `None` is every item.
    pub filter: Option<Expr>,
    /// Where it is served, without extension: `feeds/NAME`, `tags/TAG`, `search`.
    pub path: String,
    /// Appended to every URL of the document (a search's expression).
    pub query: Option<String>,
    /// Entries it carries, within `1..=MAX_OUTPUT_LIMIT`.
    pub limit: usize,
    /// The output it is, when it is one: outputs keep archive pages (RFC 5005).
    pub output: Option<String>,
}

/// Where output `name` is served, without extension.
pub fn output_path(name: &str) -> String {
    format!("feeds/{name}")
}

/// Where page `page` of output `name`'s archive is served, without extension.
pub fn archive_path(name: &str, page: i64) -> String {
    format!("feeds/{name}/archive/{page}")
}

fn archive_url(base: &Url, name: &str, page: i64, format: Format) -> Url {
    document_url(base, &archive_path(name, page), None, Some(format))
}

impl Publication {
    /// A configured output.
    pub fn output(output: &OutputConfig) -> Publication {
        Publication {
            title: output.title.clone(),
            filter: output.filter.clone(),
            path: output_path(&output.name),
            query: None,
            limit: output.limit,
            output: Some(output.name.clone()),
        }
    }

    /// Every item with `tag`, matched by its key however it is spelled.
    pub fn tag(tag: &str) -> Publication {
        Publication {
            title: format!("#{tag}"),
            filter: Some(Expr::Tag(tag.to_string())),
            path: format!("tags/{tag}"),
            query: None,
            limit: DEFAULT_OUTPUT_LIMIT,
            output: None,
        }
    }

    /// Every item matching `expr`, written as `q`.
    pub fn search(q: &str, expr: Expr) -> Publication {
        Publication {
            title: format!("Search: {q}"),
            filter: Some(expr),
            path: "search".into(),
            query: Some(q.to_string()),
            limit: DEFAULT_OUTPUT_LIMIT,
            output: None,
        }
    }

    /// The search page before anything is searched: every item.
    pub fn everything() -> Publication {
        Publication {
            title: "Search".into(),
            filter: None,
            path: "search".into(),
            query: None,
            limit: DEFAULT_OUTPUT_LIMIT,
            output: None,
        }
    }

    /// With `?limit=N` when the request gave one, kept within bounds.
    pub fn limited(mut self, limit: Option<usize>) -> Publication {
        self.limit = limit.unwrap_or(self.limit).clamp(1, MAX_OUTPUT_LIMIT);
        self
    }

    /// The document in `format`, or its page when `None`, with links under `base`.
    pub fn render(
        &self,
        store: &Store,
        base: &Url,
        format: Option<Format>,
    ) -> Result<String, StoreError> {
        let archive = match format {
            Some(format) => self.archive(store, base, format)?,
            None => ArchiveLinks::default(),
        };
        Ok(self.render_items(&self.items(store)?, base, format, &archive))
    }

    /// For an output: the link to its newest archive page (read only: serving never writes).
    /// Nothing for tags and searches.
    pub fn archive(
        &self,
        store: &Store,
        base: &Url,
        format: Format,
    ) -> Result<ArchiveLinks, StoreError> {
        let Some(output) = &self.output else {
            return Ok(ArchiveLinks::default());
        };
        let newest = store.archive_span(output)?.map(|(_, newest)| newest);
        Ok(ArchiveLinks {
            prev: newest.map(|page| archive_url(base, output, page, format)),
            current: None,
        })
    }

    /// For an output: brings its archive up to date — new items get their places, and the
    /// documents of pages that just filled are kept, never to change. Run after polls (the
    /// daemon's push task) and by `feedsift render`, not on the serving path.
    pub fn update_archive(&self, store: &Store, base: &Url) -> Result<(), StoreError> {
        let Some(output) = &self.output else {
            return Ok(());
        };
        for page in store.assign_archive_places(output, self.filter.as_ref())? {
            self.keep_archive_page(store, base, output, page)?;
        }
        Ok(())
    }

    /// Renders a full archive page in every format and keeps the documents.
    fn keep_archive_page(
        &self,
        store: &Store,
        base: &Url,
        output: &str,
        page: i64,
    ) -> Result<(), StoreError> {
        let items = store.archive_page_items(output, page)?;
        let oldest = store
            .archive_span(output)?
            .map_or(page, |(oldest, _)| oldest);
        let documents: Vec<(&str, String)> = Format::ALL
            .iter()
            .map(|format| {
                let path = archive_path(output, page);
                let mut channel = Channel::new(
                    base,
                    format!("{} (archive page {page})", self.title),
                    &path,
                    None,
                    Some(*format),
                );
                channel.archive = ArchiveLinks {
                    prev: (page > oldest).then(|| archive_url(base, output, page - 1, *format)),
                    current: Some(document_url(base, &self.path, None, Some(*format))),
                };
                (format.extension(), format.render(&channel, &items))
            })
            .collect();
        store.keep_archive_page(output, page, &documents, chrono::Utc::now())
    }

    /// The items the document shows now, newest first.
    pub fn items(&self, store: &Store) -> Result<Vec<StoredItem>, StoreError> {
        store.items_matching(self.filter.as_ref(), self.limit)
    }

    /// The document showing `items` (all of its items, or only some for a delta), with
    /// `archive` links.
    pub fn render_items(
        &self,
        items: &[StoredItem],
        base: &Url,
        format: Option<Format>,
        archive: &ArchiveLinks,
    ) -> String {
        let query = self.query.as_deref();
        let mut channel = Channel::new(base, self.title.clone(), &self.path, query, format);
        channel.archive = archive.clone();
        channel.hub = base.join("websub").ok();
        match format {
            Some(format) => format.render(&channel, items),
            None => {
                let feeds: Vec<_> = Format::ALL
                    .iter()
                    .map(|f| {
                        (
                            *f,
                            document_url(base, &self.path, query, Some(*f)).to_string(),
                        )
                    })
                    .collect();
                let nav = html::Nav {
                    home: base.to_string(),
                    search: document_url(base, "search", None, None).to_string(),
                    query: self.query.clone(),
                };
                let tag_url = |tag: &str| {
                    document_url(base, &Publication::tag(tag).path, None, None).to_string()
                };
                html::output_page(&channel, &feeds, items, &nav, &tag_url)
            }
        }
    }
}
