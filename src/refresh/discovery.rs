//! A web page's address given instead of its feed's: the feed it links is fetched in its
//! place, and the poll says so.

use url::Url;

use super::Polled;
use crate::config::FeedConfig;
use crate::discover;
use crate::fetch::{FetchError, Fetched, Fetcher, Reply, Validators};
use crate::model::PollOutcome;

/// What a web page given instead of a feed led to.
pub(super) enum WebPage {
    /// The page links this feed, which was fetched in its place.
    Linked(Url),
    /// The page links no feed.
    NoFeed,
}

impl WebPage {
    /// Says so on the poll: where the feed was found (and that the feed lives there now), or
    /// why there was nothing to read.
    pub(super) fn note(self, polled: &mut Polled) {
        match (self, &mut polled.outcome) {
            (WebPage::Linked(feed), PollOutcome::Fetched { repairs, .. }) => {
                let found = format!("the URL is a web page; read the feed it links, {feed}");
                *repairs = Some(match repairs.take() {
                    Some(done) => format!("{found}; {done}"),
                    None => found,
                });
                polled.moved_to = polled.moved_to.take().or(Some(feed));
            }
            (WebPage::Linked(feed), _) => polled.moved_to = polled.moved_to.take().or(Some(feed)),
            (WebPage::NoFeed, PollOutcome::Failed { reason }) => {
                *reason = "not a feed: a web page that links no feed \
                           (<link rel=\"alternate\" type=\"application/rss+xml\">)"
                    .into();
            }
            (WebPage::NoFeed, _) => {}
        }
    }
}

/// When `fetched` is a web page rather than a feed, the feed it links is fetched in its
/// place (with the same validators: once found, they are the feed's), as reader apps do.
pub(super) async fn follow_feed_link(
    fetcher: &Fetcher,
    fetched: Result<Fetched, FetchError>,
    url: &Url,
    validators: &Validators,
    feed: &FeedConfig,
) -> (Result<Fetched, FetchError>, Option<WebPage>) {
    let Ok(Fetched {
        reply: Reply::Modified { body, .. },
        ..
    }) = &fetched
    else {
        return (fetched, None);
    };
    if !discover::is_web_page(body) {
        return (fetched, None);
    }
    match discover::feed_links(body, url).into_iter().next() {
        Some(linked) => {
            tracing::debug!(feed = feed.name.as_str(), page = %url, linked = %linked, "a web page: fetching the feed it links");
            let found = fetcher.fetch(&linked, validators, feed.allow_private).await;
            (found, Some(WebPage::Linked(linked)))
        }
        None => (fetched, Some(WebPage::NoFeed)),
    }
}
