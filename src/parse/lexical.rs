//! XML's lexical rules as the repair step needs them, and the quick check run on every
//! document that parsed: does it hold text feed-rs reads without complaint but mangles?

/// Whether a document that parsed has text feed-rs silently mangles: control characters, or
/// references other than XML's own outside CDATA. A quick scan, run on every document.
pub fn suspicious(doc: &str) -> bool {
    let bytes = doc.as_bytes();
    // Branch-free per chunk, so the compiler can vectorise this pass over every document.
    let control = |chunk: &[u8]| {
        chunk.iter().fold(false, |seen, &b| {
            seen | ((b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r'))
        })
    };
    if bytes.chunks(256).any(control) {
        return true;
    }
    let cdata = memchr::memmem::Finder::new("<![CDATA[");
    let mut next_cdata = cdata.find(bytes);
    let mut at = 0;
    while let Some(offset) = memchr::memchr(b'&', &bytes[at..]) {
        at += offset;
        // Skip the CDATA sections that begin before this `&`; it may lie inside one.
        while let Some(start) = next_cdata.filter(|&c| c < at) {
            let Some(end) = memchr::memmem::find(&bytes[start..], b"]]>") else {
                return true;
            };
            let end = start + end + 3;
            if end > at {
                at = end;
            }
            next_cdata = cdata.find(&bytes[end..]).map(|c| c + end);
        }
        if bytes.get(at) == Some(&b'&') && !is_xml_reference(&doc[at + 1..]) {
            return true;
        }
        at += usize::from(bytes.get(at) == Some(&b'&'));
    }
    // An unterminated CDATA section after the last `&`.
    while let Some(start) = next_cdata {
        let Some(end) = memchr::memmem::find(&bytes[start..], b"]]>") else {
            return true;
        };
        let end = start + end + 3;
        next_cdata = cdata.find(&bytes[end..]).map(|c| c + end);
    }
    false
}

/// A piece of markup as the XML parser delimits it: a tag, processing instruction or
/// declaration, from its `<` to its `>`. CDATA sections and comments are passed over.
#[derive(Debug, PartialEq, Eq)]
pub enum Markup<'a> {
    /// Starts at byte `at`; `text` is everything between `<` and `>`.
    Piece { at: usize, text: &'a str },
    /// The document ends inside a piece, a CDATA section or a comment.
    Unterminated,
}

/// The markup of `doc` from byte `from` on, in order; ends after `Markup::Unterminated`.
pub fn markup(doc: &str, from: usize) -> impl Iterator<Item = Markup<'_>> {
    let mut at = Some(from);
    std::iter::from_fn(move || {
        loop {
            let from = at?;
            let start = from + memchr::memchr(b'<', doc.as_bytes().get(from..)?)?;
            let rest = &doc[start..];
            let closed_by = |close: &str| rest[1..].find(close).map(|e| 1 + e + close.len());
            let (end, skipped) = if rest.starts_with("<![CDATA[") {
                (closed_by("]]>"), true)
            } else if rest.starts_with("<!--") {
                (closed_by("-->"), true)
            } else if rest.starts_with("<?") {
                (closed_by("?>"), false)
            } else {
                (tag_end(rest), false)
            };
            let Some(end) = end else {
                at = None;
                return Some(Markup::Unterminated);
            };
            at = Some(start + end);
            if !skipped {
                return Some(Markup::Piece {
                    at: start,
                    text: &rest[1..end - 1],
                });
            }
        }
    })
}

/// Just past the `>` that ends the tag at the start of `rest`: the first one outside quotes,
/// as quick-xml reads tags (even malformed ones, where a stray quote hides later markup).
fn tag_end(rest: &str) -> Option<usize> {
    let bytes = rest.as_bytes();
    let mut quote = None;
    for i in memchr::memchr3_iter(b'>', b'\'', b'"', bytes) {
        match (quote, bytes[i]) {
            (None, b'>') => return Some(i + 1),
            (None, opening) => quote = Some(opening),
            (Some(open), closing) if open == closing => quote = None,
            _ => {}
        }
    }
    None
}

/// Whether an XML declaration appears after the start of the document, read the way the XML
/// parser reads it: inside CDATA or a comment it is only text (as in a post about XML).
/// When in doubt (an unterminated piece) the answer is yes: the document then goes to the
/// repair step, which drops misplaced declarations.
pub fn misplaced_declaration(doc: &str) -> bool {
    if memchr::memmem::find(&doc.as_bytes()[doc.len().min(1)..], b"<?xml").is_none() {
        return false;
    }
    // From the first byte: starting later could begin inside the first piece and read its
    // end as the start of a CDATA section that hides a declaration.
    markup(doc, 0).any(|piece| match piece {
        Markup::Unterminated => true,
        Markup::Piece { at, text } => {
            at > 0
                && text.starts_with("?xml")
                && text.as_bytes().get(4).is_some_and(u8::is_ascii_whitespace)
        }
    })
}

/// `amp;`, `lt;`, `gt;`, `quot;`, `apos;`, `#123;` or `#x1F;` at the start of `after`.
fn is_xml_reference(after: &str) -> bool {
    let Some(end) = after
        .as_bytes()
        .iter()
        .take(MAX_REFERENCE + 1)
        .position(|&b| b == b';')
    else {
        return false;
    };
    let body = &after[..end];
    match body.strip_prefix('#') {
        // An upper-case `&#X…;` is not XML: the strict parser rejects the whole document.
        Some(number) => match number.strip_prefix('x') {
            Some(hex) => !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            None => !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()),
        },
        None => matches!(body, "amp" | "lt" | "gt" | "quot" | "apos"),
    }
}

/// The longest reference looked for after an `&`.
pub const MAX_REFERENCE: usize = 40;

/// Characters XML 1.0 does not allow anywhere.
pub fn is_forbidden(c: char) -> bool {
    matches!(c, '\0'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// The characters of an HTML named entity (`eacute` → "é"), if it is one.
pub fn html_entity(name: &str) -> Option<String> {
    let reference = format!("&{name};");
    let decoded = html_escape::decode_html_entities(&reference);
    (decoded != reference).then(|| decoded.into_owned())
}

/// The XML name at the start of `text` (empty when there is none).
pub fn name_of(text: &str) -> &str {
    let end = text
        .char_indices()
        .find(|&(i, c)| {
            let ok = c.is_alphabetic() || c == '_' || c == ':' || !c.is_ascii();
            !(ok || (i > 0 && (c.is_ascii_digit() || c == '-' || c == '.')))
        })
        .map_or(text.len(), |(i, _)| i);
    &text[..end]
}

pub fn find(doc: &str, from: usize, needle: &str) -> Option<usize> {
    doc.get(from..)?.find(needle).map(|i| i + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_passes_over_cdata_and_comments_and_stops_where_the_document_does() {
        let doc = "<a x='1'><![CDATA[<b>]]><!-- <c> --><?pi x?></a><d";
        let pieces: Vec<_> = markup(doc, 0).collect();
        assert_eq!(
            pieces,
            [
                Markup::Piece {
                    at: 0,
                    text: "a x='1'"
                },
                Markup::Piece {
                    at: 36,
                    text: "?pi x?"
                },
                Markup::Piece { at: 44, text: "/a" },
                Markup::Unterminated,
            ]
        );
        assert!(misplaced_declaration("<a><?xml version=\"1.0\"?></a>"));
        assert!(!misplaced_declaration(
            "<?xml version=\"1.0\"?><a><![CDATA[<?xml version=\"1.0\"?>]]></a>"
        ));
        // Read from byte 1, the first piece's `<![CDATA[` would hide the declaration.
        assert!(misplaced_declaration(
            "<?<![CDATA[x?><a><<![CDATA[b><?xml ]]>version=\"1.0\"?></a>"
        ));
        // A quote in a tag hides its `>`, and with it the `<![CDATA[` that seemed to follow.
        assert!(misplaced_declaration(
            "<a><b c=\"><![CDATA[\"><?xml ]]>version=\"1.0\"?></b></a>"
        ));
    }
}
