//! One fixture per format quirk in `tests/fixtures/formats`, each asserting what a reader
//! app would show: how many items, their ids, links and dates, and what was repaired.

use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/formats/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(name: &str) -> ParsedFeed {
    parse_feed(
        &fixture(name),
        &Source::at(Some("https://feeds.example/feed")),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn at(text: &str) -> Option<DateTime<Utc>> {
    Some(
        DateTime::parse_from_rfc3339(text)
            .expect("test date")
            .with_timezone(&Utc),
    )
}

fn links(feed: &ParsedFeed) -> Vec<&str> {
    feed.items
        .iter()
        .filter_map(|i| i.link.as_deref())
        .collect()
}

fn guids(feed: &ParsedFeed) -> Vec<&str> {
    feed.items
        .iter()
        .filter_map(|i| i.guid.as_deref())
        .collect()
}

#[test]
fn rss_090_items_are_read() {
    let feed = parse("rss090.rdf");
    assert_eq!(
        links(&feed),
        ["https://old.example/1", "https://old.example/2"]
    );
    assert_eq!(feed.repairs, ["RSS 0.90 read as RSS 1.0"]);
}

#[test]
fn rss_091_with_html_entities_is_repaired() {
    let feed = parse("rss091_entities.xml");
    assert_eq!(feed.items.len(), 1);
    assert_eq!(
        feed.items[0].title.as_deref(),
        Some("Crème brûlée\u{a0}— recipe")
    );
    assert_eq!(feed.items[0].content.as_deref(), Some("Sweet…"));
    assert_eq!(feed.title.as_deref(), Some("Café news"));
    assert_eq!(feed.repairs, ["HTML entities"]);
}

#[test]
fn rss_092_and_10_parse_without_repairs() {
    let feed = parse("rss092.xml");
    assert_eq!(links(&feed), ["https://n.example/92"]);
    assert_eq!(feed.items[0].categories, ["Retro"]);
    let feed = parse("rss10.rdf");
    assert_eq!(links(&feed), ["https://one.example/a"]);
    assert_eq!(feed.items[0].published, at("2024-03-01T07:00:00Z"));
    assert!(feed.repairs.is_empty(), "{:?}", feed.repairs);
}

#[test]
fn rss_without_or_with_an_odd_version_is_read_as_20() {
    for (name, prefix) in [
        ("rss20_no_version.xml", "nv"),
        ("rss20_odd_version.xml", "ov"),
    ] {
        let feed = parse(name);
        assert_eq!(
            guids(&feed),
            [format!("{prefix}-1"), format!("{prefix}-2")],
            "{name}"
        );
        assert_eq!(
            feed.items[0].published,
            at("2024-03-04T09:00:00Z"),
            "{name}"
        );
        assert_eq!(feed.repairs, ["RSS version set to 2.0"], "{name}");
    }
}

#[test]
fn rss_under_the_userland_namespace_is_read() {
    let feed = parse("rss20_userland.xml");
    assert_eq!(guids(&feed), ["ul-1"]);
    assert_eq!(feed.items[0].published, at("2024-03-05T10:00:00Z"));
    assert_eq!(feed.repairs, ["UserLand namespace removed"]);
}

#[test]
fn rss_11_items_are_read() {
    let feed = parse("rss11.xml");
    assert_eq!(
        links(&feed),
        ["https://eleven.example/1", "https://eleven.example/2"]
    );
    assert_eq!(feed.items[1].content.as_deref(), Some("second"));
    assert_eq!(feed.repairs, ["RSS 1.1 read as RSS 1.0"]);
}

#[test]
fn atom_03_is_read_as_atom_10_with_escaped_and_base64_content() {
    let feed = parse("atom03.xml");
    assert_eq!(guids(&feed), ["tag:a03,1", "tag:a03,2"]);
    assert_eq!(
        links(&feed),
        ["https://a03.example/1", "https://a03.example/2"]
    );
    assert_eq!(feed.items[0].published, at("2024-03-01T12:00:00Z"));
    assert_eq!(feed.items[0].updated, at("2024-03-01T13:00:00Z"));
    assert_eq!(
        feed.items[0].content.as_deref(),
        Some("<p>Hello <i>0.3</i></p>")
    );
    assert_eq!(
        feed.items[1].content.as_deref(),
        Some("<p>Decoded <b>base64</b></p>")
    );
    assert_eq!(feed.repairs, ["Atom 0.3 read as Atom 1.0"]);
}

#[test]
fn atom_text_with_mime_types_is_read() {
    let feed = parse("atom10_mime_types.xml");
    assert_eq!(guids(&feed), ["urn:mime:1"]);
    assert_eq!(feed.items[0].title.as_deref(), Some("a &lt; b"));
    assert_eq!(feed.title.as_deref(), Some("Mime &amp; types"));
    assert_eq!(feed.repairs, ["Atom text types"]);
}

#[test]
fn xml_base_on_the_feed_and_entries_is_kept() {
    let feed = parse("atom_xml_base.xml");
    assert_eq!(
        feed.items[0].base.as_deref(),
        Some("https://base.example/blog/2024/")
    );
    assert_eq!(
        feed.items[1].base.as_deref(),
        Some("https://base.example/blog/")
    );
    assert!(feed.repairs.is_empty());
}

#[test]
fn json_feeds_with_numeric_ids_and_no_version_are_read() {
    let feed = parse("json_feed_loose.json");
    assert_eq!(guids(&feed), ["1", "2.5"]);
    assert_eq!(feed.items[0].categories, ["ai", "2024", "true"]);
    assert!(feed.items[1].categories.is_empty());
    assert_eq!(feed.items[0].published, at("2024-03-01T10:00:00Z"));
    assert_eq!(feed.repairs, ["JSON Feed types coerced"]);
    let feed = parse("json_feed_10.json");
    assert_eq!(guids(&feed), ["j10-1"]);
    assert_eq!(feed.items[0].published, at("2024-03-01T08:00:00Z"));
    assert!(feed.repairs.is_empty());
}

#[test]
fn ill_formed_documents_are_repaired_and_say_so() {
    let feed = parse("unescaped_ampersand.xml");
    assert_eq!(guids(&feed), ["amp-1"]);
    assert_eq!(feed.items[0].title.as_deref(), Some("Salt &amp; pepper"));
    assert_eq!(links(&feed), ["https://amp.example/1?a=1&b=2"]);
    assert_eq!(feed.repairs, ["unescaped &"]);

    let feed = parse("control_characters.xml");
    assert_eq!(feed.items[0].title.as_deref(), Some("Bell and null"));
    assert_eq!(feed.repairs, ["control characters"]);

    let feed = parse("truncated.xml");
    assert_eq!(guids(&feed), ["cut-1", "cut-2"]);
    assert_eq!(feed.items[1].content.as_deref(), Some("The connection dro"));
    assert_eq!(feed.repairs, ["unclosed elements"]);
}

#[test]
fn utf16_and_mislabelled_windows_1252_come_out_as_correct_text() {
    let feed = parse("utf16be_bom.xml");
    assert_eq!(
        feed.items[0].title.as_deref(),
        Some("Grüße aus Köln – “UTF-16”")
    );
    assert!(feed.repairs.is_empty());
    let feed = parse("windows1252_labelled_utf8.xml");
    assert_eq!(
        feed.items[0].title.as_deref(),
        Some("Café – “smart quotes” €5")
    );
    assert_eq!(feed.repairs, ["not valid UTF-8, read as windows-1252"]);
}

#[test]
fn dates_in_many_formats_are_read_and_bad_ones_never_invented() {
    let before = Utc::now();
    let feed = parse("dates.xml");
    let dates: Vec<_> = feed
        .items
        .iter()
        .map(|i| i.published.or(i.updated))
        .collect();
    let expected = at("2024-01-05T14:05:00Z");
    assert_eq!(dates[..7], [expected; 7]);
    assert_eq!(
        dates[7], None,
        "no date stays unknown (first seen is used later)"
    );
    assert_eq!(dates[8], None, "an unreadable date is no date");
    let clamped = dates[9].expect("a future date is clamped, not dropped");
    assert!(clamped >= before && clamped <= Utc::now(), "{clamped}");
}

#[test]
fn documents_with_items_never_come_out_empty_silently() {
    let rss = b"<rss version=\"2.0\"><channel><title>t</title><item><title>a</title></item></channel></rss>";
    assert_eq!(
        parse_feed(rss, &Source::at(None))
            .expect("valid")
            .items
            .len(),
        1
    );
    // RSS under a namespace feed-rs does not know parses "fine" with no entries, and no
    // repair helps: the error names how many items were lost instead.
    let foreign =
        b"<rss version=\"2.0\" xmlns=\"http://unknown.example/rss\"><channel><title>t</title>\
        <item><title>a</title></item><item><title>b</title></item></channel></rss>";
    let err = parse_feed(foreign, &Source::at(None)).expect_err("items lost");
    assert!(matches!(err, ParseError::NoItemsRead(2)), "{err}");
    let unknown = b"<feeds><item><title>a</title></item></feeds>";
    let err = parse_feed(unknown, &Source::at(None)).expect_err("not a feed");
    assert!(matches!(err, ParseError::NotAFeed(_)), "{err}");
    let empty = b"<rss version=\"2.0\"><channel><title>t</title></channel></rss>";
    assert!(
        parse_feed(empty, &Source::at(None))
            .expect("valid")
            .items
            .is_empty()
    );
}

#[test]
fn a_declaration_quoted_in_cdata_is_only_text() {
    let rss = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><item><guid>x</guid>\
        <description><![CDATA[<pre><?xml version=\"1.0\" encoding=\"utf-16\"?></pre>]]></description>\
        </item><!-- <?xml version=\"1.0\"?> --></channel></rss>";
    let feed = parse_feed(rss.as_bytes(), &Source::at(None)).expect("valid");
    assert!(
        feed.items[0]
            .content
            .as_deref()
            .is_some_and(|c| c.contains("<?xml"))
    );
    assert!(feed.repairs.is_empty(), "{:?}", feed.repairs);
}

#[test]
fn the_http_charset_is_followed() {
    let rss = "<rss version=\"2.0\"><channel><title>t</title><item><guid>k</guid><title>привет</title></item></channel></rss>";
    let (koi8, _, _) = encoding_rs::KOI8_R.encode(rss);
    let feed = parse_feed(
        &koi8,
        &Source {
            charset: Some("KOI8-R"),
            ..Source::at(None)
        },
    )
    .expect("valid");
    assert_eq!(feed.items[0].title.as_deref(), Some("привет"));
}
