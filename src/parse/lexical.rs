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

/// Whether an XML declaration appears after the start of the document, read the way the XML
/// parser reads it: inside CDATA or a comment it is only text (as in a post about XML).
/// When in doubt (an unterminated section, a tag) the answer is yes: the document then goes
/// to the repair step, which drops misplaced declarations.
pub fn misplaced_declaration(doc: &str) -> bool {
    let bytes = doc.as_bytes();
    let after_start = &bytes[bytes.len().min(1)..];
    if memchr::memmem::find(after_start, b"<?xml").is_none() {
        return false;
    }
    let mut at = 1;
    while let Some(offset) = bytes.get(at..).and_then(|rest| memchr::memchr(b'<', rest)) {
        let start = at + offset;
        let rest = &doc[start..];
        let close = if rest.starts_with("<?") {
            if rest.starts_with("<?xml")
                && bytes.get(start + 5).is_some_and(u8::is_ascii_whitespace)
            {
                return true;
            }
            "?>"
        } else if rest.starts_with("<![CDATA[") {
            "]]>"
        } else if rest.starts_with("<!--") {
            "-->"
        } else {
            ">"
        };
        match rest[1..].find(close) {
            Some(end) => at = start + 1 + end + close.len(),
            None => return true,
        }
    }
    false
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
        Some(number) => match number.strip_prefix(['x', 'X']) {
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
