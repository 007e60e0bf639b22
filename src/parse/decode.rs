//! Bytes → UTF-8 before any parser sees them: the BOM, then the HTTP `charset`, then the XML
//! declaration decide, with fallbacks for documents that lie about their encoding. The
//! result always declares UTF-8 (or nothing), so the XML parser never decodes again.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// A document as UTF-8, and what had to be guessed to get there.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    /// Set when the document's own labels were wrong or missing and a fallback was used.
    pub fallback: Option<String>,
}

/// Decodes `bytes`; `http_charset` is the `charset` parameter of the response's Content-Type.
pub fn decode<'a>(bytes: &'a [u8], http_charset: Option<&str>) -> Decoded<'a> {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        return with_declaration(transcode(&bytes[bom..], encoding), None);
    }
    if let Some(encoding) = utf16_without_bom(bytes) {
        return with_declaration(transcode(bytes, encoding), None);
    }
    let http = http_charset.and_then(|c| Encoding::for_label(c.trim().as_bytes()));
    let declared = declared_encoding(bytes);
    let label = http.or(declared).map(ascii_compatible);
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            let mislabelled = label.filter(|l| *l != UTF_8);
            match mislabelled {
                // Valid UTF-8 with non-ASCII bytes is almost never really a single-byte
                // encoding: trusting the label would turn "é" into "Ã©".
                Some(l) if l.is_single_byte() && !text.is_ascii() => with_declaration(
                    Cow::Borrowed(text),
                    Some(format!("labelled {} but is UTF-8", l.name())),
                ),
                // Pure ASCII reads the same in every ASCII-compatible encoding.
                Some(l) if text.is_ascii() && l.is_ascii_compatible() => {
                    with_declaration(Cow::Borrowed(text), None)
                }
                Some(l) => with_declaration(transcode(bytes, l), None),
                None => with_declaration(Cow::Borrowed(text), None),
            }
        }
        Err(_) => match label.filter(|l| *l != UTF_8) {
            Some(l) => with_declaration(transcode(bytes, l), None),
            None => with_declaration(
                transcode(bytes, WINDOWS_1252),
                Some("not valid UTF-8, read as windows-1252".into()),
            ),
        },
    }
}

/// A label that names UTF-16 on bytes without a BOM that are not UTF-16 (`<?xml` in ASCII)
/// is wrong; the ASCII-compatible reading is the one that can work.
fn ascii_compatible(encoding: &'static Encoding) -> &'static Encoding {
    if encoding == UTF_16LE || encoding == UTF_16BE {
        UTF_8
    } else {
        encoding
    }
}

/// UTF-16 without a BOM still starts with `<` or `{` next to a zero byte.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    match bytes {
        [b'<' | b'{', 0, ..] => Some(UTF_16LE),
        [0, b'<' | b'{', ..] => Some(UTF_16BE),
        _ => None,
    }
}

fn transcode<'a>(bytes: &'a [u8], encoding: &'static Encoding) -> Cow<'a, str> {
    encoding.decode_without_bom_handling(bytes).0
}

/// The `encoding` of an XML declaration at the very start of the document.
fn declared_encoding(bytes: &[u8]) -> Option<&'static Encoding> {
    let declaration = xml_declaration(bytes)?;
    let value = attribute(declaration, b"encoding")?;
    Encoding::for_label(value)
}

/// The inside of `<?xml … ?>` at the start, without the closing `?`. However long it is: the
/// XML parser reads a long one too, and an encoding it names then makes quick-xml panic.
fn xml_declaration(bytes: &[u8]) -> Option<&[u8]> {
    let rest = bytes.strip_prefix(b"<?xml")?;
    let end = memchr::memmem::find(rest, b"?>")?;
    Some(&rest[..end])
}

/// The value of `name="…"` or `name='…'` in a declaration.
fn attribute<'a>(declaration: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let at = declaration.windows(name.len()).position(|w| w == name)?;
    let rest = &declaration[at + name.len()..];
    let rest = rest
        .trim_ascii_start()
        .strip_prefix(b"=")?
        .trim_ascii_start();
    let quote = *rest.first().filter(|q| matches!(q, b'"' | b'\''))?;
    let end = rest[1..].iter().position(|&b| b == quote)?;
    Some(&rest[1..=end])
}

/// The decoded text must not claim another encoding: its declaration is rewritten to UTF-8.
fn with_declaration(text: Cow<'_, str>, fallback: Option<String>) -> Decoded<'_> {
    let Some(declaration) = xml_declaration(text.as_bytes()) else {
        return Decoded { text, fallback };
    };
    // Anything but one `encoding="utf-8"` is rewritten: the XML parser must not switch
    // encodings (quick-xml even panics on some declarations).
    let mentions = declaration.windows(8).filter(|w| w == b"encoding").count();
    let utf8 =
        attribute(declaration, b"encoding").is_some_and(|l| l.eq_ignore_ascii_case(b"utf-8"));
    if mentions == 0 || (mentions == 1 && utf8) {
        return Decoded { text, fallback };
    }
    let end = "<?xml".len() + declaration.len() + "?>".len();
    let text = Cow::Owned(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>{}",
        &text[end..]
    ));
    Decoded { text, fallback }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss><t>café – “quoted”</t></rss>";

    #[test]
    fn utf8_is_borrowed_unchanged() {
        let decoded = decode(DOC.as_bytes(), None);
        assert!(matches!(decoded.text, Cow::Borrowed(_)));
        assert_eq!(decoded.text, DOC);
        assert_eq!(decoded.fallback, None);
    }

    #[test]
    fn a_long_declaration_naming_another_encoding_is_rewritten_too() {
        let padding = "\u{3000}".repeat(300);
        let doc = format!("<?xml {padding} version=\"1.0\" encoding=\"UTF-16\"?><rss/>");
        let decoded = decode(doc.as_bytes(), None);
        assert_eq!(
            decoded.text,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss/>"
        );
    }

    #[test]
    fn boms_decide_and_utf16_comes_out_as_utf8() {
        let utf16 = DOC.replace("utf-8", "UTF-16");
        for (bom, encode) in [
            (&[0xFE, 0xFF][..], u16::to_be_bytes as fn(u16) -> [u8; 2]),
            (&[0xFF, 0xFE][..], u16::to_le_bytes),
        ] {
            let mut bytes = bom.to_vec();
            bytes.extend(utf16.encode_utf16().flat_map(encode));
            let decoded = decode(&bytes, Some("iso-8859-1"));
            assert!(decoded.text.contains("café – “quoted”"), "{}", decoded.text);
            assert!(
                decoded
                    .text
                    .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss>")
            );
            // Without the BOM, the zero bytes still give UTF-16 away.
            let decoded = decode(&bytes[2..], None);
            assert!(decoded.text.contains("café – “quoted”"), "{}", decoded.text);
        }
        let mut utf8_bom = vec![0xEF, 0xBB, 0xBF];
        utf8_bom.extend_from_slice(DOC.as_bytes());
        assert_eq!(decode(&utf8_bom, None).text, DOC);
    }

    #[test]
    fn windows_1252_labelled_utf8_falls_back() {
        let (bytes, _, _) = WINDOWS_1252.encode(DOC);
        let decoded = decode(&bytes, Some("utf-8"));
        assert!(decoded.text.contains("café – “quoted”"), "{}", decoded.text);
        assert_eq!(
            decoded.fallback.as_deref(),
            Some("not valid UTF-8, read as windows-1252")
        );
    }

    #[test]
    fn utf8_labelled_as_a_single_byte_encoding_stays_utf8() {
        let doc = DOC.replace("utf-8", "windows-1252");
        let decoded = decode(doc.as_bytes(), None);
        assert!(decoded.text.contains("café – “quoted”"), "{}", decoded.text);
        assert!(
            decoded.text.contains("encoding=\"UTF-8\""),
            "{}",
            decoded.text
        );
        assert!(decoded.fallback.is_some());
        // The HTTP charset counts too, and is overruled the same way.
        assert!(
            decode(DOC.as_bytes(), Some("ISO-8859-1"))
                .text
                .contains("café")
        );
    }

    #[test]
    fn odd_declarations_are_rewritten_to_utf8() {
        let doc = "<?xml version=\"1.0\" x=\"a>b\" encoding=\"koi8-r\" encoding=\"utf-8\"?><rss/>";
        assert_eq!(
            decode(doc.as_bytes(), None).text,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss/>"
        );
    }

    #[test]
    fn declared_and_http_encodings_are_followed() {
        let doc = DOC.replace("utf-8", "ISO-8859-15");
        let latin = doc.replace(['–', '“', '”'], "-");
        let (bytes, _, _) = encoding_rs::ISO_8859_15.encode(&latin);
        let decoded = decode(&bytes, None);
        assert!(decoded.text.contains("café"), "{}", decoded.text);
        assert!(
            decoded
                .text
                .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        );
        let (koi8, _, _) = encoding_rs::KOI8_R.encode("<rss><t>привет</t></rss>");
        assert!(decode(&koi8, Some("koi8-r")).text.contains("привет"));
        assert!(decode(&koi8, Some("\"bogus\"")).fallback.is_some());
    }
}
