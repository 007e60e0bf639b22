//! `feedsift import-opml`: a reader's subscriptions into the config file, each web page's
//! address replaced by the feed it links.

use std::path::Path;

use anyhow::Context as _;

use super::BadArgument;
use crate::config::Config;
use crate::model::Subscription;
use crate::subscriptions;

/// Adds an OPML file's subscriptions to the config file, replacing it only when the result
/// is valid; returns what it did, a line each.
pub fn import_opml(config: &Path, opml: &Path) -> anyhow::Result<Vec<String>> {
    let opml_text = std::fs::read_to_string(opml)
        .map_err(|e| BadArgument(format!("cannot read {}: {e}", opml.display())))?;
    let subs = subscriptions::read_opml(&opml_text)
        .map_err(|e| BadArgument(format!("{}: {e}", opml.display())))?;
    let text = match std::fs::read_to_string(config) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", config.display())),
    };
    let (subs, mut report) = with_discovered_feeds(config, &text, subs)?;
    let (new_text, imported) =
        subscriptions::add_to_config(config, &text, &subs).map_err(|e| match e {
            subscriptions::ImportError::Invalid(e) => anyhow::Error::new(e),
            other => anyhow::Error::new(BadArgument(other.to_string())),
        })?;
    let temp = config.with_extension("toml.importing");
    std::fs::write(&temp, new_text).with_context(|| format!("cannot write {}", temp.display()))?;
    std::fs::rename(&temp, config)
        .with_context(|| format!("cannot replace {}", config.display()))?;
    report.push(format!(
        "{}: added {} feeds ({} already there): {}",
        config.display(),
        imported.added.len(),
        imported.already_there,
        imported.added.join(", ")
    ));
    report.extend(imported.skipped.iter().map(|s| format!("skipped {s}")));
    Ok(report)
}

/// The subscriptions with each web page's URL replaced by the feed the page links, and a
/// line saying so for each; fetched under the config's `[fetch]` settings (its defaults when the
/// config does not exist yet or is invalid).
fn with_discovered_feeds(
    config_path: &Path,
    text: &str,
    mut subs: Vec<Subscription>,
) -> anyhow::Result<(Vec<Subscription>, Vec<String>)> {
    let config = Config::parse(config_path, text)
        .or_else(|_| Config::parse(config_path, ""))
        .context("the default config")?;
    let indexed: Vec<(usize, url::Url)> = subs
        .iter()
        .enumerate()
        .filter_map(|(i, s)| url::Url::parse(&s.url).ok().map(|u| (i, u)))
        .filter(|(_, u)| matches!(u.scheme(), "http" | "https"))
        // Feeds the config already has are not fetched: they are not imported again.
        .filter(|(_, u)| !config.feeds.iter().any(|f| &f.url == u))
        .collect();
    let urls: Vec<url::Url> = indexed.iter().map(|(_, u)| u.clone()).collect();
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let found = runtime.block_on(super::feeds_behind(&config, &urls))?;
    let mut report = Vec::new();
    for ((index, page), feed) in indexed.into_iter().zip(found) {
        if feed != page {
            report.push(format!(
                "{}: {page} is a web page; importing the feed it links, {feed}",
                subs[index].name
            ));
            subs[index].url = feed.to_string();
        }
    }
    Ok((subs, report))
}
