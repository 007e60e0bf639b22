//! Subscriptions in and out: OPML read into the config file (keeping its comments and
//! layout) and the configured feeds written as OPML.

use std::collections::HashSet;
use std::path::Path;

use toml_edit::{Array, DocumentMut, Item, Table, value};
use url::Url;

use crate::config::{Config, ConfigError};
use crate::model::FeedName;
use crate::model::Subscription;

/// Why an import changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("not an OPML document: {0}")]
    Opml(opml::Error),
    #[error("the config file is not valid TOML: {0}")]
    Toml(toml_edit::TomlError),
    #[error("the imported config would be invalid: {0}")]
    Invalid(ConfigError),
}

impl From<ConfigError> for ImportError {
    fn from(error: ConfigError) -> ImportError {
        ImportError::Invalid(error)
    }
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// Names of the feeds added.
    pub added: Vec<String>,
    /// Subscriptions whose URL the config already had.
    pub already_there: usize,
    /// Subscriptions left out, with why (`title: reason`).
    pub skipped: Vec<String>,
}

/// Every subscription of an OPML document. Outlines nested in others take the enclosing
/// outlines' titles as tags (a reader's folders), plus their own `category` values.
pub fn read_opml(text: &str) -> Result<Vec<Subscription>, ImportError> {
    let doc = opml::OPML::from_str(text).map_err(ImportError::Opml)?;
    let mut found = Vec::new();
    walk(&doc.body.outlines, &[], &mut found);
    Ok(found)
}

fn walk(outlines: &[opml::Outline], folders: &[String], found: &mut Vec<Subscription>) {
    for outline in outlines {
        let title = outline
            .title
            .clone()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| outline.text.clone());
        if let Some(url) = outline.xml_url.as_deref().filter(|u| !u.trim().is_empty()) {
            let mut tags: Vec<String> = folders.to_vec();
            let categories = outline.category.as_deref().unwrap_or("");
            let category_tags = categories
                .split(',')
                .filter_map(|c| c.rsplit('/').next())
                .map(str::trim);
            tags.extend(category_tags.filter(|c| !c.is_empty()).map(String::from));
            tags.dedup();
            found.push(Subscription {
                name: title.trim().to_string(),
                title: Some(title.trim().to_string()).filter(|t| !t.is_empty()),
                url: url.trim().to_string(),
                tags,
            });
        }
        if !outline.outlines.is_empty() {
            let mut nested = folders.to_vec();
            if outline.xml_url.is_none() && !title.trim().is_empty() {
                nested.push(title.trim().to_string());
            }
            walk(&outline.outlines, &nested, found);
        }
    }
}

/// The config text with `[[feed]]` tables appended for the subscriptions it lacks; comments
/// and layout stay as they were. The result is validated as a whole before it is returned.
pub fn add_to_config(
    path: &Path,
    text: &str,
    subscriptions: &[Subscription],
) -> Result<(String, Imported), ImportError> {
    let mut doc: DocumentMut = text.parse().map_err(ImportError::Toml)?;
    let mut urls = HashSet::new();
    let mut names = HashSet::new();
    if let Some(feeds) = doc.get("feed").and_then(Item::as_array_of_tables) {
        for feed in feeds.iter() {
            urls.extend(feed.get("url").and_then(Item::as_str).map(String::from));
            if let Some(name) = feed.get("name").and_then(Item::as_str) {
                names.insert(name.to_string());
            } else if let Some(url) = feed
                .get("url")
                .and_then(Item::as_str)
                .and_then(|u| Url::parse(u).ok())
            {
                names.extend(FeedName::from_url(&url).map(|n| n.to_string()));
            }
        }
    }
    let mut imported = Imported::default();
    let mut added_tables = Vec::new();
    for sub in subscriptions {
        let url = match Url::parse(&sub.url) {
            Ok(url) if matches!(url.scheme(), "http" | "https" | "file") => url,
            _ => {
                imported.skipped.push(format!(
                    "{}: `{}` is not an http(s) feed URL",
                    sub.name, sub.url
                ));
                continue;
            }
        };
        if urls.contains(url.as_str()) || urls.contains(&sub.url) {
            imported.already_there += 1;
            continue;
        }
        urls.insert(url.to_string());
        let name = unique_name(sub.title.as_deref(), &url, &mut names);
        let mut table = Table::new();
        table.insert("url", value(sub.url.clone()));
        table.insert("name", value(name.clone()));
        if let Some(title) = &sub.title {
            table.insert("title", value(title.clone()));
        }
        if !sub.tags.is_empty() {
            table.insert("tags", value(sub.tags.iter().collect::<Array>()));
        }
        added_tables.push(table);
        imported.added.push(name);
    }
    let feeds = doc
        .entry("feed")
        .or_insert(Item::ArrayOfTables(Default::default()));
    if let Some(feeds) = feeds.as_array_of_tables_mut() {
        for table in added_tables {
            feeds.push(table);
        }
    }
    let new_text = doc.to_string();
    Config::parse(path, &new_text)?;
    Ok((new_text, imported))
}

/// A feed name from the reader's title (`OpenAI News` → `openai-news`), else the URL's
/// host, with `-2`, `-3` … when it is taken.
fn unique_name(title: Option<&str>, url: &Url, taken: &mut HashSet<String>) -> String {
    let slug = title.map(|t| {
        t.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join("-")
            .to_lowercase()
    });
    let base = slug
        .filter(|s| FeedName::new(s).is_ok())
        .or_else(|| FeedName::from_url(url).map(|n| n.to_string()))
        .unwrap_or_else(|| "feed".to_string());
    let name = (1..)
        .map(|n| {
            if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or(base);
    taken.insert(name.clone());
    name
}

/// The configured feeds as subscriptions, for OPML export.
pub fn configured(config: &Config) -> Vec<Subscription> {
    config
        .feeds
        .iter()
        .map(|f| Subscription {
            name: f.name.to_string(),
            title: f.title.clone(),
            url: f.url.to_string(),
            tags: f.tags.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPML: &str = r#"<?xml version="1.0"?>
<opml version="2.0"><head><title>Reader export</title></head><body>
  <outline text="Tech">
    <outline text="AI">
      <outline text="OpenAI News" type="rss" xmlUrl="https://openai.example/rss.xml" category="/Research,Labs"/>
    </outline>
    <outline text="Verge" type="rss" xmlUrl="https://www.verge.example/rss"/>
  </outline>
  <outline text="Loose" type="rss" xmlUrl="https://loose.example/feed"/>
  <outline text="Already" type="rss" xmlUrl="https://known.example/feed"/>
</body></opml>"#;

    const CONFIG: &str = "# My feeds, hand-written.\n[server]\nlisten = \"127.0.0.1:8080\" # local only\n\n[[feed]]\n# the one I read most\nurl = \"https://known.example/feed\"\n";

    #[test]
    fn nested_outlines_become_tags() {
        let subs = read_opml(OPML).expect("valid OPML");
        let tags: Vec<(&str, Vec<&str>)> = subs
            .iter()
            .map(|s| (s.url.as_str(), s.tags.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            tags,
            [
                (
                    "https://openai.example/rss.xml",
                    vec!["Tech", "AI", "Research", "Labs"]
                ),
                ("https://www.verge.example/rss", vec!["Tech"]),
                ("https://loose.example/feed", vec![]),
                ("https://known.example/feed", vec![]),
            ]
        );
    }

    #[test]
    fn imports_keep_comments_and_skip_known_feeds() {
        let subs = read_opml(OPML).expect("valid OPML");
        let (text, imported) =
            add_to_config(Path::new("/tmp/f.toml"), CONFIG, &subs).expect("import");
        assert_eq!(
            imported.added,
            ["openai-news", "verge", "loose"],
            "named by their titles"
        );
        assert_eq!(imported.already_there, 1);
        assert!(
            text.starts_with(CONFIG),
            "the original text is kept as it was:\n{text}"
        );
        let config = Config::parse(Path::new("/tmp/f.toml"), &text).expect("valid");
        assert_eq!(config.feeds.len(), 4);
        assert_eq!(config.feeds[1].tags, ["Tech", "AI", "Research", "Labs"]);
    }

    #[test]
    fn taken_names_get_a_number() {
        let sub = |url: &str| Subscription {
            name: "x".into(),
            title: None,
            url: url.into(),
            tags: vec![],
        };
        let subs = vec![sub("https://same.example/1"), sub("https://same.example/2")];
        let (_, imported) = add_to_config(Path::new("/tmp/f.toml"), "", &subs).expect("import");
        assert_eq!(imported.added, ["same.example", "same.example-2"]);
    }

    #[test]
    fn urls_that_are_not_feeds_are_skipped_and_named() {
        let opml = r#"<opml version="2.0"><head/><body>
  <outline text="Evil" type="rss" xmlUrl="javascript:alert(1)"/>
  <outline text="Good" type="rss" xmlUrl="https://good.example/feed"/>
</body></opml>"#;
        let subs = read_opml(opml).expect("valid OPML");
        let (_, imported) = add_to_config(Path::new("/tmp/f.toml"), "", &subs).expect("import");
        assert_eq!(imported.added, ["good"]);
        assert_eq!(
            imported.skipped,
            ["Evil: `javascript:alert(1)` is not an http(s) feed URL"]
        );
    }

    #[test]
    fn titles_and_folders_survive_a_round_trip() {
        let subs = read_opml(OPML).expect("valid OPML");
        let (text, _) = add_to_config(Path::new("/tmp/f.toml"), "", &subs).expect("import");
        let config = Config::parse(Path::new("/tmp/f.toml"), &text).expect("valid");
        let exported = crate::publish::opml::render("x", &configured(&config));
        let again = read_opml(&exported).expect("our OPML reads back");
        let view = |subs: &[Subscription]| -> Vec<(String, Option<String>, Vec<String>)> {
            subs.iter()
                .map(|s| (s.url.clone(), s.title.clone(), s.tags.clone()))
                .collect()
        };
        let mut before = view(&subs);
        let mut after = view(&again);
        before.sort();
        after.sort();
        assert_eq!(after, before, "{exported}");
        assert!(exported.contains("<outline text=\"Tech\""), "{exported}");
    }

    #[test]
    fn bad_opml_is_an_error() {
        assert!(matches!(
            read_opml("<html></html>"),
            Err(ImportError::Opml(_))
        ));
    }
}
