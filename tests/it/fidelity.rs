//! Fidelity: the same stories rendered in every format and content mode must be read to the
//! same text, the same tags and the same content hash, and stored as one item each.
//! The generator below knows the truth (each story's plain text and hashtags) and the checks
//! compare item by item, never only counts.

use std::collections::{BTreeMap, BTreeSet};

use feedsift::model::Item;
use feedsift::parse::{Source, parse_feed};
use feedsift::process::process_feed;
use feedsift::store::Store;
use proptest::prelude::*;

use crate::support::{Route, TestConfig, TestServer, feeds_toml, run_feedsift};

/// One story as its author wrote it.
struct Story {
    /// Plain text, with characters that need escaping in every format.
    title: String,
    /// XHTML-compatible HTML paragraphs.
    paragraphs: Vec<String>,
    /// The paragraphs as a reader sees them.
    plain: Vec<String>,
    hashtags: Vec<&'static str>,
    published: &'static str,
}

impl Story {
    fn html(&self) -> String {
        self.paragraphs.concat()
    }

    fn text(&self) -> String {
        self.plain.join("\n\n")
    }
}

const HASHTAGS: [&str; 5] = ["#OpenAI", "#人工智能", "#Rust_lang", "#Café", "#Z80"];

fn stories() -> Vec<Story> {
    (0..6)
        .map(|i| {
            let tags: Vec<&str> = HASHTAGS.iter().copied().cycle().skip(i).take(2).collect();
            Story {
                title: format!("Story {i}: Microsoft & OpenAI <deal> — “{i}” café {}", tags[0]),
                paragraphs: vec![
                    format!(
                        "<p>Paragraph one of story {i} says <b>bold</b> things &amp; more, 1 &lt; 2, \
                         with <a href=\"https://example.com/{i}\">a link</a>.</p>"
                    ),
                    format!(
                        "<p>The second paragraph of story {i} ends with its tags {}</p>",
                        tags.join(" ")
                    ),
                ],
                plain: vec![
                    format!(
                        "Paragraph one of story {i} says bold things & more, 1 < 2, with a link."
                    ),
                    format!(
                        "The second paragraph of story {i} ends with its tags {}",
                        tags.join(" ")
                    ),
                ],
                hashtags: tags,
                published: "2024-03-01T10:00:00Z",
            }
        })
        .collect()
}

/// Every way a feed carries an item's text that the suite renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    RssDescriptionEscaped,
    RssDescriptionCdata,
    RssContentEncodedEscaped,
    RssContentEncodedCdata,
    RssLatin1,
    AtomContentText,
    AtomContentHtml,
    AtomContentHtmlCdata,
    AtomContentXhtml,
    AtomContentXhtmlPrefixed,
    AtomSummaryHtml,
    AtomSummaryXhtml,
    AtomUtf16,
    JsonContentHtml,
    JsonContentText,
    JsonSummary,
}

const MODES: [Mode; 16] = [
    Mode::RssDescriptionEscaped,
    Mode::RssDescriptionCdata,
    Mode::RssContentEncodedEscaped,
    Mode::RssContentEncodedCdata,
    Mode::RssLatin1,
    Mode::AtomContentText,
    Mode::AtomContentHtml,
    Mode::AtomContentHtmlCdata,
    Mode::AtomContentXhtml,
    Mode::AtomContentXhtmlPrefixed,
    Mode::AtomSummaryHtml,
    Mode::AtomSummaryXhtml,
    Mode::AtomUtf16,
    Mode::JsonContentHtml,
    Mode::JsonContentText,
    Mode::JsonSummary,
];

fn xml(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

/// The stories as one document of `mode`, with ids and links of the site `site`.
fn render(mode: Mode, site: &str, stories: &[Story]) -> Vec<u8> {
    let id = |i: usize| format!("https://{site}.example/posts/{i}");
    match mode {
        Mode::JsonContentHtml | Mode::JsonContentText | Mode::JsonSummary => {
            let items: Vec<serde_json::Value> = stories
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let mut item = serde_json::json!({
                        "id": id(i), "url": id(i), "title": s.title,
                        "date_published": s.published,
                    });
                    let (field, value) = match mode {
                        Mode::JsonContentHtml => ("content_html", s.html()),
                        Mode::JsonContentText => ("content_text", s.text()),
                        _ => ("summary", s.text()),
                    };
                    item[field] = value.into();
                    item
                })
                .collect();
            serde_json::json!({
                "version": "https://jsonfeed.org/version/1.1",
                "title": site, "items": items,
            })
            .to_string()
            .into_bytes()
        }
        Mode::AtomContentText
        | Mode::AtomContentHtml
        | Mode::AtomContentHtmlCdata
        | Mode::AtomContentXhtml
        | Mode::AtomContentXhtmlPrefixed
        | Mode::AtomSummaryHtml
        | Mode::AtomSummaryXhtml
        | Mode::AtomUtf16 => {
            let entries: String = stories
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let body = match mode {
                        Mode::AtomContentText => {
                            format!("<content type=\"text\">{}</content>", xml(&s.text()))
                        }
                        Mode::AtomContentHtml | Mode::AtomUtf16 => {
                            format!("<content type=\"html\">{}</content>", xml(&s.html()))
                        }
                        Mode::AtomContentHtmlCdata => {
                            format!("<content type=\"html\">{}</content>", cdata(&s.html()))
                        }
                        Mode::AtomContentXhtml => format!(
                            "<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">{}</div></content>",
                            s.html()
                        ),
                        Mode::AtomContentXhtmlPrefixed => format!(
                            "<content type=\"xhtml\"><xhtml:div xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">{}</xhtml:div></content>",
                            s.html().replace("<", "<xhtml:").replace("<xhtml:/", "</xhtml:")
                        ),
                        Mode::AtomSummaryHtml => {
                            format!("<summary type=\"html\">{}</summary>", xml(&s.html()))
                        }
                        _ => format!(
                            "<summary type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">{}</div></summary>",
                            s.html()
                        ),
                    };
                    format!(
                        "<entry><id>{}</id><title type=\"text\">{}</title><link href=\"{}\"/>\
                         <updated>{}</updated>{body}</entry>\n",
                        id(i),
                        xml(&s.title),
                        id(i),
                        s.published
                    )
                })
                .collect();
            let doc = format!(
                "<?xml version=\"1.0\" encoding=\"{}\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\
                 <title>{site}</title><id>urn:{site}</id><updated>2024-03-01T10:00:00Z</updated>\n{entries}</feed>\n",
                if mode == Mode::AtomUtf16 {
                    "UTF-16"
                } else {
                    "UTF-8"
                }
            );
            if mode == Mode::AtomUtf16 {
                let mut bytes = vec![0xFF, 0xFE];
                bytes.extend(doc.encode_utf16().flat_map(u16::to_le_bytes));
                bytes
            } else {
                doc.into_bytes()
            }
        }
        _ => {
            let items: String = stories
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let body = match mode {
                        Mode::RssDescriptionEscaped | Mode::RssLatin1 => {
                            format!("<description>{}</description>", xml(&s.html()))
                        }
                        Mode::RssDescriptionCdata => {
                            format!("<description>{}</description>", cdata(&s.html()))
                        }
                        Mode::RssContentEncodedEscaped => format!(
                            "<description>Teaser only</description><content:encoded>{}</content:encoded>",
                            xml(&s.html())
                        ),
                        _ => format!(
                            "<description>Teaser only</description><content:encoded>{}</content:encoded>",
                            cdata(&s.html())
                        ),
                    };
                    format!(
                        "<item><guid>{}</guid><title>{}</title><link>{}</link>\
                         <pubDate>Fri, 01 Mar 2024 10:00:00 +0000</pubDate>{body}</item>\n",
                        id(i),
                        xml(&s.title),
                        id(i)
                    )
                })
                .collect();
            let latin1 = mode == Mode::RssLatin1;
            let doc = format!(
                "<?xml version=\"1.0\" encoding=\"{}\"?>\n<rss version=\"2.0\" \
                 xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel>\
                 <title>{site}</title><link>https://{site}.example/</link><description>d</description>\n{items}</channel></rss>\n",
                if latin1 { "ISO-8859-1" } else { "UTF-8" }
            );
            if latin1 {
                to_latin1(&doc)
            } else {
                doc.into_bytes()
            }
        }
    }
}

/// Latin-1 bytes, with every character outside it written as a character reference.
fn to_latin1(doc: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(doc.len());
    for c in doc.chars() {
        match u8::try_from(u32::from(c)) {
            Ok(byte) => out.push(byte),
            Err(_) => out.extend(format!("&#{};", u32::from(c)).into_bytes()),
        }
    }
    out
}

fn site(mode: Mode) -> String {
    format!("{mode:?}").to_lowercase()
}

fn read(mode: Mode, stories: &[Story]) -> Vec<Item> {
    let site = site(mode);
    let url = format!("https://{site}.example/feed");
    let doc = render(mode, &site, stories);
    let parsed = parse_feed(&doc, &Source::at(Some(&url)))
        .unwrap_or_else(|e| panic!("{mode:?}: {e}\n{}", String::from_utf8_lossy(&doc)));
    process_feed(&parsed, url::Url::parse(&url).ok().as_ref()).items
}

fn hashtag_keys(item: &Item) -> BTreeSet<String> {
    item.tags
        .iter()
        .filter(|t| t.origin == feedsift::model::TagOrigin::Hashtag)
        .map(|t| t.key.clone())
        .collect()
}

#[test]
fn every_mode_reads_the_same_text_tags_and_hash_for_each_story() {
    let stories = stories();
    let reference = read(Mode::RssDescriptionEscaped, &stories);
    for (item, story) in reference.iter().zip(&stories) {
        let expected = feedsift::text::normalise(&story.text());
        assert_eq!(
            &*item.text, expected,
            "the reference mode reads the story's text"
        );
        assert_eq!(item.title, feedsift::text::normalise(&story.title));
        let keys: BTreeSet<String> = story
            .hashtags
            .iter()
            .map(|h| feedsift::text::tag_key(h.trim_start_matches('#')))
            .collect();
        assert_eq!(hashtag_keys(item), keys, "{}", item.title);
    }
    for mode in MODES {
        let items = read(mode, &stories);
        assert_eq!(items.len(), stories.len(), "{mode:?}");
        for (item, expected) in items.iter().zip(&reference) {
            assert_eq!(
                item.text, expected.text,
                "{mode:?}: the stored text differs"
            );
            assert_eq!(item.title, expected.title, "{mode:?}");
            assert_eq!(hashtag_keys(item), hashtag_keys(expected), "{mode:?}");
            assert_eq!(item.hash, expected.hash, "{mode:?}: {}", item.title);
        }
    }
}

#[tokio::test]
async fn each_story_in_every_mode_from_every_site_is_stored_once_with_every_source() {
    let stories = stories();
    let server = TestServer::start().await;
    let mut feeds = Vec::new();
    for mode in MODES {
        let name = site(mode);
        let path = format!("/{name}");
        server.serve(&path, Route::ok(render(mode, &name, &stories)));
        feeds.push((name, server.url(&path)));
    }
    let list: Vec<(&str, &str, &[&str])> = feeds
        .iter()
        .map(|(n, u)| (n.as_str(), u.as_str(), &[][..]))
        .collect();
    let config = TestConfig::write(&format!(
        "[fetch]\nper_host = 16\nper_host_delay = \"1ms\"\n\n{}",
        feeds_toml(&list)
    ));
    let polled = run_feedsift("poll", &config.path, &["--all"]).await;
    assert_eq!(polled.code, Some(0), "{}", polled.stderr);

    let store = Store::open(&config.load().storage.path).expect("open");
    let items = store.items_matching(None, 1000).expect("items");
    let by_title: BTreeMap<String, _> = items.iter().map(|i| (i.title.clone(), i)).collect();
    assert_eq!(items.len(), stories.len(), "{:?}", by_title.keys());
    let all_sites: BTreeSet<String> = feeds.iter().map(|(n, _)| n.clone()).collect();
    for story in &stories {
        let item = by_title
            .get(&feedsift::text::normalise(&story.title))
            .unwrap_or_else(|| panic!("{} in {:?}", story.title, by_title.keys()));
        let sites: BTreeSet<String> = item.sources.iter().map(|s| s.feed_name.clone()).collect();
        assert_eq!(sites, all_sites, "{}", story.title);
        for tag in &story.hashtags {
            let filter = feedsift::filter::parse(tag).expect("filter");
            let ids: Vec<String> = store
                .items_matching(Some(&filter), 1000)
                .expect("query")
                .into_iter()
                .map(|i| i.entry_id)
                .collect();
            assert!(ids.contains(&item.entry_id), "{tag} misses {}", story.title);
        }
    }
}

/// A document of `mode` whose items carry arbitrary words as their text.
fn arbitrary_stories(texts: &[(String, String)]) -> Vec<Story> {
    texts
        .iter()
        .map(|(title, body)| Story {
            title: title.clone(),
            paragraphs: vec![format!("<p>{}</p>", xml(body))],
            plain: vec![body.clone()],
            hashtags: Vec::new(),
            published: "2024-03-01T10:00:00Z",
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn any_document_with_k_items_that_carry_text_stores_k_items_with_text(
        texts in prop::collection::vec(("[a-zA-Z0-9 &<>'\"é]{0,12}", "[a-zA-Z0-9 &<>'\"#é人]{1,40}"), 1..8),
        mode in prop::sample::select(MODES.to_vec()),
    ) {
        // Distinct texts: two items telling the same story are rightly one item.
        let texts: Vec<(String, String)> = texts
            .into_iter()
            .enumerate()
            .map(|(i, (title, body))| (title, format!("{body} n{i}")))
            .collect();
        let items = read(mode, &arbitrary_stories(&texts));
        prop_assert_eq!(items.len(), texts.len(), "{:?}", mode);
        for (item, (_, body)) in items.iter().zip(&texts) {
            prop_assert_eq!(&*item.text, &feedsift::text::normalise(body), "{:?}", mode);
        }
        // And stored: K items, each with its text.
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(&dir.path().join("p.db")).expect("store");
        let spec = feedsift::store::FeedSpec { name: "p".into(), url: "https://p.example/".into(), tags: Vec::new() };
        store.sync_feeds(&[spec]).expect("sync");
        let write = feedsift::model::PollWrite {
            name: "p".into(),
            outcome: feedsift::model::PollOutcome::NotModified,
            items,
            now: chrono::Utc::now(),
            next_poll: chrono::Utc::now(),
            near_window: None,
            full_text: false,
        };
        for written in store.record_polls(&[write]).expect("recorded") {
            written.expect("poll written");
        }
        let stored: BTreeSet<String> = store
            .items_matching(None, 100)
            .expect("items")
            .iter()
            .map(|i| feedsift::text::html_to_text(i.content.as_deref().unwrap_or("")))
            .collect();
        let expected: BTreeSet<String> =
            texts.iter().map(|(_, body)| feedsift::text::normalise(body)).collect();
        prop_assert_eq!(stored, expected, "{:?}", mode);
    }
}
