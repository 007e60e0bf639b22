use super::*;

const RSS: &str = r#"<?xml version="1.0"?>
<rss version="2.0"><channel><title>Example &amp; Co</title><link>https://example.com/</link>
<item><title>With guid</title><guid isPermaLink="false">id-1</guid><link>https://example.com/1</link>
<description>&lt;p&gt;Hello&lt;/p&gt;</description><category>AI</category><author>a@example.com (Ann)</author></item>
<item><title>No guid</title><link>https://example.com/2</link><description>plain</description></item>
<item><title>Nothing at all</title><description>only text</description></item>
</channel></rss>"#;

#[test]
fn rss_items_keep_their_own_guids_and_no_made_up_ones() {
    let feed = parse_feed(
        RSS.as_bytes(),
        &Source::at(Some("https://example.com/feed")),
    )
    .expect("valid RSS");
    assert_eq!(feed.items.len(), 3);
    assert_eq!(feed.items[0].guid.as_deref(), Some("id-1"));
    assert_eq!(feed.items[1].guid, None);
    assert_eq!(feed.items[2].guid, None);
    assert_eq!(feed.items[0].content.as_deref(), Some("<p>Hello</p>"));
    assert_eq!(feed.items[0].categories, ["AI"]);
    assert_eq!(feed.items[0].link.as_deref(), Some("https://example.com/1"));
    assert_eq!(feed.site_link.as_deref(), Some("https://example.com/"));
}

#[test]
fn plain_text_is_escaped_into_html() {
    let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:f</id><updated>2026-01-01T00:00:00Z</updated>
<entry><id>urn:e</id><title type="text">a &lt;b&gt; c</title><updated>2026-01-01T00:00:00Z</updated>
<content type="text">1 &lt; 2</content></entry></feed>"#;
    let feed = parse_feed(atom.as_bytes(), &Source::at(None)).expect("valid Atom");
    assert_eq!(feed.items[0].title.as_deref(), Some("a &lt;b&gt; c"));
    assert_eq!(feed.items[0].content.as_deref(), Some("1 &lt; 2"));
}

#[test]
fn json_feed_items_parse() {
    let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[
        {"id":"j1","url":"https://example.com/j1","content_html":"<b>x</b>","tags":["Rust"]}]}"#;
    let feed = parse_feed(json.as_bytes(), &Source::at(None)).expect("valid JSON Feed");
    assert_eq!(feed.items[0].guid.as_deref(), Some("j1"));
    assert_eq!(feed.items[0].categories, ["Rust"]);
}

#[test]
fn html_pages_are_not_feeds() {
    let err = parse_feed(
        b"<!doctype html><html><body>hi</body></html>",
        &Source::at(None),
    )
    .expect_err("not a feed");
    assert!(matches!(err, ParseError::NotAFeed(_)), "{err}");
    assert!(parse_feed(b"", &Source::at(None)).is_err());
}

#[test]
fn ttl_and_syndication_hints_are_read() {
    let ttl = RSS.replace(
        "<title>Example &amp; Co</title>",
        "<title>E</title><ttl>90</ttl>",
    );
    let feed = parse_feed(ttl.as_bytes(), &Source::at(None)).expect("valid");
    assert_eq!(feed.update_every, Some(Duration::from_secs(90 * 60)));
    let sy = RSS
        .replace("<rss version=\"2.0\">", "<rss version=\"2.0\" xmlns:sy=\"http://purl.org/rss/1.0/modules/syndication/\">")
        .replace("<title>Example &amp; Co</title>", "<title>E</title><sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency>");
    let feed = parse_feed(sy.as_bytes(), &Source::at(None)).expect("valid");
    assert_eq!(feed.update_every, Some(Duration::from_secs(6 * 3600)));
    assert_eq!(
        parse_feed(RSS.as_bytes(), &Source::at(None))
            .expect("valid")
            .update_every,
        None
    );
}

/// Well-formed RSS with text that needs escaping, CDATA, entities and dates.
fn valid_rss() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let text = "[a-zA-Z0-9 .,!?'\"<>&é“”–€\n]{0,40}";
    let item = (text, text, any::<bool>(), 0i64..1_700_000_000).prop_map(|(title, body, cdata, at)| {
        let body = if cdata {
            format!("<![CDATA[<p>{}</p>]]>", body.replace("]]>", ""))
        } else {
            html_escape::encode_text(&body).into_owned()
        };
        let date = DateTime::from_timestamp(at, 0).unwrap_or_default().to_rfc2822();
        format!(
            "<item><title>{}</title><description>{body}</description><pubDate>{date}</pubDate></item>",
            html_escape::encode_text(&title)
        )
    });
    prop::collection::vec(item, 0..8).prop_map(|items| {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>t</title>{}</channel></rss>",
            items.concat()
        )
    })
}

proptest::proptest! {
    #[test]
    fn documents_that_parse_strictly_are_read_unrepaired(doc in valid_rss()) {
        let strict = strict(&doc).expect("valid RSS parses strictly");
        let feed = parse_feed(doc.as_bytes(), &Source::at(None)).expect("valid RSS");
        proptest::prop_assert!(feed.repairs.is_empty(), "{:?}", feed.repairs);
        proptest::prop_assert_eq!(feed.items.len(), strict.entries.len());
        for (item, entry) in feed.items.iter().zip(&strict.entries) {
            proptest::prop_assert_eq!(item.published, entry.published);
        }
    }
}

mod formats;
