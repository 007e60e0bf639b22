//! Server-rendered HTML pages: an output as a readable page, and the status page.
//! No JavaScript; a little CSS.

use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{Channel, Format, safe_content, web};
use crate::store::{FeedHealth, StoredItem};

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#222}\
a{color:#0645ad}h1{font-size:1.6rem}article{border-top:1px solid #ddd;padding:1rem 0}\
article h2{font-size:1.15rem;margin:0}.meta{color:#666;font-size:.85rem}.tag{background:#eef;border-radius:3px;padding:0 .3rem;margin-right:.2rem}\
.content img{max-width:100%;height:auto}table{border-collapse:collapse;width:100%;font-size:.9rem}\
td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left}.broken{color:#b00;font-weight:bold}";

/// An output (or tag, or search) as a web page, with autodiscovery links to its feeds.
pub fn output_page(
    channel: &Channel,
    feed_urls: &[(Format, String)],
    items: &[StoredItem],
) -> String {
    let body = html! {
        h1 { (channel.title) }
        p.meta {
            "Subscribe: "
            @for (format, url) in feed_urls {
                a href=(url) { (format.extension()) } " "
            }
        }
        @if items.is_empty() { p { "No items yet." } }
        @for item in items { (entry(item)) }
    };
    page(&channel.title, feed_urls, body)
}

fn entry(item: &StoredItem) -> Markup {
    let date = item.published.unwrap_or(item.updated);
    html! {
        article {
            h2 {
                @match item.link.as_deref().and_then(web) {
                    Some(link) => a href=(link) { (item.title) },
                    None => (item.title),
                }
            }
            p.meta {
                time datetime=(date.to_rfc3339()) { (date.format("%Y-%m-%d %H:%M")) }
                " · from "
                @for (i, source) in item.sources.iter().enumerate() {
                    @if i > 0 { ", " }
                    @match source.link.as_deref().and_then(web) {
                        Some(link) => a href=(link) { (source.feed_title.as_deref().unwrap_or(&source.feed_name)) },
                        None => (source.feed_title.as_deref().unwrap_or(&source.feed_name)),
                    }
                }
            }
            @if !item.tags.is_empty() {
                p.meta { @for tag in &item.tags { span.tag { "#" (tag) } } }
            }
            @if let Some(content) = safe_content(item) {
                div.content { (PreEscaped(content)) }
            }
        }
    }
}

/// One output listed on the status page.
pub struct OutputLink {
    pub title: String,
    pub filter: String,
    pub page_url: String,
    pub feed_urls: Vec<(Format, String)>,
}

/// `/`: the outputs with their links, and every feed's health.
pub fn status_page(outputs: &[OutputLink], feeds: &[FeedHealth], now: DateTime<Utc>) -> String {
    let body = html! {
        h1 { "feedsift" }
        h2 { "Outputs" }
        ul {
            @for o in outputs {
                li {
                    a href=(o.page_url) { (o.title) } " "
                    span.meta { (o.filter) " · " }
                    @for (format, url) in &o.feed_urls { a href=(url) { (format.extension()) } " " }
                }
            }
        }
        h2 { "Feeds" }
        table {
            tr { th { "Feed" } th { "Status" } th { "Items" } th { "Failures" } th { "Last poll" } th { "Next poll" } th { "Error" } }
            @for f in feeds {
                @let broken = matches!(f.state(), "broken" | "gone");
                tr {
                    td {
                        @match web(&f.url) {
                            Some(url) => a href=(url) { (f.name) },
                            None => (f.name),
                        }
                    }
                    td class=[broken.then_some("broken")] {
                        (f.state())
                        @if let Some(moved) = &f.effective_url { br; "moved to " (moved) }
                    }
                    td { (f.items) }
                    td { (f.consecutive_failures) }
                    td { (f.last_poll.map_or("-".to_string(), |t| ago(now, t))) }
                    td { (f.next_poll.format("%Y-%m-%d %H:%M")) }
                    td {
                        (f.last_error.as_deref().unwrap_or(""))
                        @if let Some(repairs) = &f.repairs { "parsed with repairs: " (repairs) }
                    }
                }
            }
        }
    };
    page("feedsift", &[], body)
}

fn page(title: &str, feed_urls: &[(Format, String)], body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                @for (format, url) in feed_urls {
                    link rel="alternate" type=(mime(*format)) title=(title) href=(url);
                }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
    .into_string()
}

fn mime(format: Format) -> &'static str {
    match format {
        Format::Atom => "application/atom+xml",
        Format::Rss => "application/rss+xml",
        Format::Json => "application/feed+json",
    }
}

fn ago(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    let minutes = (now - t).num_minutes();
    match minutes {
        ..1 => "just now".into(),
        1..120 => format!("{minutes} min ago"),
        _ => format!("{} h ago", minutes / 60),
    }
}
