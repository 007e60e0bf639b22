//! Server-rendered HTML pages: an output (or tag, or search) as a readable page, and the
//! status page. No JavaScript; a little CSS that lays tables out as cards on a phone.

use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{Channel, Format, safe_content, web};
use crate::model::{FeedHealth, StoredItem, Story, StoryCopy};

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:1.5rem auto;padding:0 1rem;color:#222;overflow-wrap:anywhere}\
a{color:#0645ad}h1{font-size:1.6rem;margin:.5rem 0}nav{font-size:.9rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center}\
nav form{display:flex;gap:.3rem;flex:1 1 14rem}nav input{flex:1;min-width:0;font:inherit;padding:.2rem .4rem}\
article{border-top:1px solid #ddd;padding:1rem 0}article h2{font-size:1.15rem;margin:0}\
.meta{color:#666;font-size:.85rem}.tag{background:#eef;border-radius:3px;padding:0 .3rem;margin:0 .2rem .2rem 0;text-decoration:none;display:inline-block;white-space:nowrap}\
.content img{max-width:100%;height:auto}.content pre{overflow-x:auto}\
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;vertical-align:top}\
time,.when{white-space:nowrap}.failed,.broken,.gone{color:#b00;font-weight:bold}.ok{color:#070}\
@media (max-width:40rem){table,tbody,tr,td{display:block}tr:first-child{display:none}\
tr{border-bottom:1px solid #ddd;padding:.4rem 0}td{border:0;padding:.1rem 0}td[data-label]::before{content:attr(data-label) \": \";color:#666}}";

/// Where a page's navigation leads: the status page and the search.
pub struct Nav {
    /// `/` under the base URL.
    pub home: String,
    /// The search page (`/search`), which takes `q`.
    pub search: String,
    /// The search expression shown in the box, if any.
    pub query: Option<String>,
}

/// An output (or tag, or search) as a web page, with autodiscovery links to its feeds.
/// `tag_url` gives the page of a tag.
pub fn output_page(
    channel: &Channel,
    feed_urls: &[(Format, String)],
    items: &[StoredItem],
    nav: &Nav,
    tag_url: &dyn Fn(&str) -> String,
) -> String {
    let body = html! {
        (navigation(nav))
        h1 { (channel.title) }
        p.meta {
            "Subscribe: "
            @for (format, url) in feed_urls {
                a href=(url) { (format.extension()) } " "
            }
        }
        @if items.is_empty() { p { "No items yet." } }
        @for item in items { (entry(item, channel, tag_url)) }
    };
    page(&channel.title, feed_urls, body)
}

/// `/stories/ID`: which site carried the story first, when each copy appeared and under
/// which headline.
pub fn story_page(story: &Story, nav: &Nav) -> String {
    let first = story.copies.first().map(StoryCopy::appeared);
    let body = html! {
        (navigation(nav))
        h1 { (story.title) }
        p.meta {
            @match story.copies.len() {
                0 => "No site carries this story any more.",
                1 => "One site carried this story.",
                n => { (n) " sites carried this story." }
            }
        }
        table {
            tr { th { "Appeared" } th { "Site" } th { "Headline" } th { "First seen here" } th { "How it was matched" } }
            @for (n, copy) in story.copies.iter().enumerate() {
                tr {
                    td data-label="Appeared" {
                        @let appeared = copy.appeared();
                        time datetime=(appeared.to_rfc3339()) { (appeared.format("%Y-%m-%d %H:%M UTC")) }
                        @if n > 0 && let Some(first) = first {
                            br; span.meta { (later(appeared - first)) }
                        }
                    }
                    td data-label="Site" {
                        @let name = copy.source.feed_title.as_deref().unwrap_or(&copy.source.feed_name);
                        @match copy.source.site_link.as_deref().and_then(web) {
                            Some(site) => a href=(site) { (name) },
                            None => (name),
                        }
                        @if n == 0 { " " span.tag { "first" } }
                    }
                    td data-label="Headline" {
                        @match copy.source.link.as_deref().and_then(web) {
                            Some(link) => a href=(link) { (copy.headline) },
                            None => (copy.headline),
                        }
                    }
                    td data-label="First seen here" {
                        time datetime=(copy.first_seen.to_rfc3339()) { (copy.first_seen.format("%Y-%m-%d %H:%M UTC")) }
                    }
                    td data-label="How it was matched" {
                        @match &copy.near {
                            Some((rule, similarity)) => { "near copy: " (rule) ", " (format!("{:.0} %", similarity * 100.0)) },
                            None => "same text as stored",
                        }
                    }
                }
            }
        }
    };
    page(&story.title, &[], body)
}

/// "12 min later", "3 h later".
fn later(gap: chrono::Duration) -> String {
    let minutes = gap.num_minutes().max(0);
    match minutes {
        0 => "at the same time".into(),
        1..120 => format!("{minutes} min later"),
        120..2880 => format!("{} h later", minutes / 60),
        _ => format!("{} days later", minutes / 1440),
    }
}

fn navigation(nav: &Nav) -> Markup {
    html! {
        nav {
            a href=(nav.home) { "← all outputs" }
            form action=(nav.search) method="get" role="search" {
                input type="search" name="q" value=[nav.query.as_deref()]
                    placeholder="#OpenAI and not #crypto" aria-label="Search with a filter";
                button type="submit" { "Search" }
            }
        }
    }
}

fn entry(item: &StoredItem, channel: &Channel, tag_url: &dyn Fn(&str) -> String) -> Markup {
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
                time datetime=(date.to_rfc3339()) { (date.format("%Y-%m-%d %H:%M UTC")) }
                " · from "
                @for (i, source) in item.sources.iter().enumerate() {
                    @if i > 0 { ", " }
                    @match source.link.as_deref().and_then(web) {
                        Some(link) => a href=(link) { (source.feed_title.as_deref().unwrap_or(&source.feed_name)) },
                        None => (source.feed_title.as_deref().unwrap_or(&source.feed_name)),
                    }
                }
                @if let Ok(timeline) = channel.stories.join(item.entry_id.strip_prefix("urn:uuid:").unwrap_or(&item.entry_id)) {
                    " · " a href=(timeline) { "timeline" }
                }
            }
            @if !item.tags.is_empty() {
                p.meta { @for tag in &item.tags { a.tag href=(tag_url(tag)) { "#" (tag) } } }
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
pub fn status_page(
    outputs: &[OutputLink],
    feeds: &[FeedHealth],
    nav: &Nav,
    now: DateTime<Utc>,
) -> String {
    let body = html! {
        (navigation(nav))
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
            @for f in feeds { (feed_row(f, now)) }
        }
    };
    page("feedsift", &[], body)
}

fn feed_row(f: &FeedHealth, now: DateTime<Utc>) -> Markup {
    let (word, class) = status_word(f);
    let name = f.title.as_deref().unwrap_or(&f.name);
    html! {
        tr {
            td {
                @match f.site_link.as_deref().and_then(web) {
                    Some(site) => a href=(site) { (name) },
                    None => (name),
                }
                br;
                span.meta { "feed:" code { (f.name) } }
                @if let Some(url) = web(&f.url) { " " a.meta href=(url) { "(document)" } }
            }
            td data-label="Status" class=(class) {
                (word)
                @if let Some(moved) = &f.effective_url { br; span.meta { "now at " (moved) } }
            }
            td data-label="Items" { (f.items) }
            td data-label="Failures" { (f.consecutive_failures) }
            td data-label="Last poll" {
                @match f.last_poll {
                    Some(t) => span.when title=(t.format("%Y-%m-%d %H:%M UTC")) { (relative(now, t)) },
                    None => "never",
                }
            }
            td data-label="Next poll" {
                @if f.gone { "not polled" } @else {
                    span.when title=(f.next_poll.format("%Y-%m-%d %H:%M UTC")) { (relative(now, f.next_poll)) }
                }
            }
            @let said = f.last_error.is_some() || f.repairs.is_some();
            td data-label=[said.then_some("Error")] {
                (f.last_error.as_deref().unwrap_or(""))
                @if let Some(repairs) = &f.repairs { span.meta { "parsed with repairs: " (repairs) } }
            }
        }
    }
}

/// A feed's state in words, and the class that colours it.
fn status_word(f: &FeedHealth) -> (&'static str, &'static str) {
    match f.state() {
        "gone" => ("gone (410)", "gone"),
        "broken" => ("broken", "broken"),
        "failed" => ("failed", "failed"),
        "fetched" | "ok" => ("ok", "ok"),
        "not_modified" => ("unchanged", "ok"),
        "never polled" => ("not polled yet", ""),
        _ => ("unknown", ""),
    }
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

/// "5 min ago", "in 2 h", "just now": past and future alike.
fn relative(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    let minutes = (t - now).num_minutes();
    let span = match minutes.unsigned_abs() {
        0 => return "just now".into(),
        m @ 1..120 => format!("{m} min"),
        m @ 120..2880 => format!("{} h", m / 60),
        m => format!("{} days", m / 1440),
    };
    if minutes < 0 {
        format!("{span} ago")
    } else {
        format!("in {span}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_the_same_way_past_and_future() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let at = |minutes: i64| now + chrono::Duration::minutes(minutes);
        assert_eq!(relative(now, at(0)), "just now");
        assert_eq!(relative(now, at(-5)), "5 min ago");
        assert_eq!(relative(now, at(30)), "in 30 min");
        assert_eq!(relative(now, at(180)), "in 3 h");
        assert_eq!(relative(now, at(-3 * 1440)), "3 days ago");
    }
}
