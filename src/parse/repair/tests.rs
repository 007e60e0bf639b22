use proptest::prelude::*;

use super::*;
use crate::parse::lexical::suspicious;

fn repaired(doc: &str) -> (String, Vec<String>) {
    let r = repair_xml(doc).expect("not refused");
    (r.text, r.repairs.iter().map(ToString::to_string).collect())
}

#[test]
fn stray_ampersands_and_less_thans_are_escaped() {
    let (text, done) = repaired(
        r#"<rss version="2.0"><channel><item><title>Fish & Chips < 5 £</title><link>https://e.com/?a=1&b=2</link><enclosure url="https://e.com/x?a=1&b=2"/></item></channel></rss>"#,
    );
    assert_eq!(
        text,
        r#"<rss version="2.0"><channel><item><title>Fish &amp; Chips &lt; 5 £</title><link>https://e.com/?a=1&amp;b=2</link><enclosure url="https://e.com/x?a=1&amp;b=2"/></item></channel></rss>"#
    );
    assert_eq!(done, ["unescaped &", "unescaped <"]);
}

#[test]
fn html_entities_become_character_references_and_unknown_ones_text() {
    let (text, done) =
        repaired("<t>caf&eacute;&nbsp;&hellip; &amp; &#233; &#x2014; &bogus; &#0;</t>");
    assert_eq!(
        text,
        "<t>caf&#233;&#160;&#8230; &amp; &#233; &#x2014; &amp;bogus; </t>"
    );
    assert_eq!(done, ["unescaped &", "HTML entities", "control characters"]);
}

#[test]
fn control_characters_are_dropped_everywhere() {
    let (text, done) = repaired("<t a=\"x\u{1}y\">a\u{0}b<![CDATA[c\u{8}d]]></t>");
    assert_eq!(text, "<t a=\"xy\">ab<![CDATA[cd]]></t>");
    assert_eq!(done, ["control characters"]);
}

#[test]
fn truncated_documents_are_closed() {
    let (text, done) =
        repaired("<rss version=\"2.0\"><channel><item><title>One</title></item><item><title>Tw");
    assert_eq!(
        text,
        "<rss version=\"2.0\"><channel><item><title>One</title></item><item><title>Tw</title></item></channel></rss>"
    );
    assert_eq!(done, ["unclosed elements"]);
    let (text, _) = repaired("<a><b>x</b><c href=\"http://e");
    assert_eq!(text, "<a><b>x</b></a>");
    let (text, _) = repaired("<a><![CDATA[half");
    assert_eq!(text, "<a><![CDATA[half]]></a>");
}

#[test]
fn declarations_after_the_start_are_dropped() {
    let (text, done) =
        repaired("<?xml version=\"1.0\"?><a><?xml version=\"1.0\" encoding=\"utf-16\"?>x</a>");
    assert_eq!(text, "<?xml version=\"1.0\"?><a>x</a>");
    assert_eq!(done, ["misplaced XML declarations"]);
}

#[test]
fn mismatched_tags_are_closed_or_dropped() {
    let (text, done) = repaired("<item><description>a<br>b</description></p></item>");
    assert_eq!(text, "<item><description>a<br>b</br></description></item>");
    assert_eq!(done, ["unclosed elements", "stray end tags"]);
}

#[test]
fn entity_declarations_are_refused() {
    let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><rss version="2.0"><channel><item><title>&lol2;</title></item></channel></rss>"#;
    assert_eq!(repair_xml(bomb).err(), Some(Refused::EntityDeclarations));
    let xxe = r#"<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><rss><channel><item><title>&xxe;</title></item></channel></rss>"#;
    assert_eq!(repair_xml(xxe).err(), Some(Refused::EntityDeclarations));
    // A plain DOCTYPE (RSS 0.91's) is kept.
    let (text, done) = repaired(
        r#"<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"></rss>"#,
    );
    assert!(text.starts_with("<!DOCTYPE rss PUBLIC"));
    assert!(done.is_empty());
}

#[test]
fn deep_and_long_inputs_take_linear_time() {
    let deep = "<a>".repeat(100_000);
    let (text, _) = repaired(&deep);
    assert_eq!(text.len(), deep.len() * 2 + 100_000);
    let ampersands = "&".repeat(1_000_000);
    let (text, _) = repaired(&format!("<t>{ampersands}</t>"));
    assert_eq!(text.len(), 5_000_000 + 7);
}

#[test]
fn only_text_feed_rs_would_mangle_is_suspicious() {
    assert!(!suspicious(
        "<t>a &amp; b &#233; &#x2014;<![CDATA[&nbsp; & <b>]]></t>"
    ));
    assert!(suspicious("<t>caf&eacute;</t>"));
    assert!(suspicious("<t>a & b</t>"));
    assert!(suspicious("<t>bell\u{7}</t>"));
    assert!(suspicious("<t><![CDATA[never closed</t>"));
}

/// Well-formed documents of the shapes feeds use: elements, attributes, escaped text,
/// entities, CDATA, comments.
fn well_formed() -> impl Strategy<Value = String> {
    let text = "[a-zA-Z0-9 .,!?é“”–\n\t]{0,20}";
    let piece = prop_oneof![
        text.prop_map(|t| t),
        Just("&amp;&lt;&gt;&quot;&apos;&#233;&#x1F600;".to_string()),
        text.prop_map(|t| format!("<![CDATA[<p>{t} & </p>]]>")),
        text.prop_map(|t| format!("<!-- {t} -->")),
        text.prop_map(|t| format!("<link href=\"https://e.com/?a=1&amp;b={}\"/>", t.len())),
    ];
    let leaf = prop::collection::vec(piece, 0..4).prop_map(|p| p.concat());
    leaf.prop_recursive(4, 64, 6, |inner| {
        (
            prop::sample::select(vec!["item", "title", "dc:date", "content:encoded"]),
            prop::collection::vec(inner, 0..4),
        )
            .prop_map(|(name, children)| format!("<{name} x=\"1\">{}</{name}>", children.concat()))
    })
    .prop_map(|body| {
        format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>{body}</channel></rss>")
    })
}

proptest! {
    #[test]
    fn well_formed_documents_are_never_changed(doc in well_formed()) {
        prop_assert!(!suspicious(&doc));
        let repaired = repair_xml(&doc).expect("not refused");
        prop_assert!(repaired.repairs.is_empty(), "{:?}", repaired.repairs);
        prop_assert_eq!(repaired.text, doc);
    }

    #[test]
    fn any_input_repairs_without_panicking(doc in "(<|>|&|;|/|!|\\[|\\]|\"|'|=|[a-z]|#|x|[0-9]| |\u{0}|é|CDATA|--|\\?){0,200}") {
        let _ = repair_xml(&doc);
    }
}
