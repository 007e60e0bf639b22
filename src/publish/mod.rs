//! Pure rendering of published documents from stored items.

mod atom;
mod sanitize;

pub use atom::render_atom;
pub use sanitize::{clean_text, sanitize_html};

use url::Url;

/// What a published document is: its title, its own URL and its web page.
#[derive(Debug, Clone)]
pub struct Channel {
    pub title: String,
    /// The URL this document is served at (`rel="self"`).
    pub self_url: Url,
    /// The HTML page of the same output (`rel="alternate"`).
    pub page_url: Url,
}
