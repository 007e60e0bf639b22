//! Repairs for the ill-formed XML real feeds serve, used only after the strict parse failed,
//! read no items or would mangle text: one linear pass that escapes stray `&` and `<`, turns HTML entities
//! into character references, drops control characters, closes what was left open and
//! converts old formats (see `formats`). Each repair is named, to be shown on the feed.

use std::collections::BTreeSet;
use std::fmt;

use super::formats::{Dialect, StartTag};
use super::lexical::{MAX_REFERENCE, find, html_entity, is_forbidden, name_of};

/// One kind of repair, as shown to users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Repair {
    BareAmpersand,
    HtmlEntity,
    ControlCharacter,
    BareLessThan,
    UnclosedElement,
    StrayEndTag,
    Truncated,
    Attribute,
    MisplacedDeclaration,
    Format(&'static str),
}

impl fmt::Display for Repair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Repair::BareAmpersand => "unescaped &",
            Repair::HtmlEntity => "HTML entities",
            Repair::ControlCharacter => "control characters",
            Repair::BareLessThan => "unescaped <",
            Repair::UnclosedElement => "unclosed elements",
            Repair::StrayEndTag => "stray end tags",
            Repair::Truncated => "truncated document",
            Repair::Attribute => "malformed attributes",
            Repair::MisplacedDeclaration => "misplaced XML declarations",
            Repair::Format(what) => what,
        })
    }
}

/// A repaired document and what was done to it (empty when nothing needed doing).
#[derive(Debug)]
pub struct Repaired {
    pub text: String,
    pub repairs: BTreeSet<Repair>,
}

/// Documents that are refused rather than repaired.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the document declares entities (entity expansion and external entities are refused)")]
    EntityDeclarations,
}

/// Repairs an XML document (see the module doc).
pub fn repair_xml(doc: &str) -> Result<Repaired, Refused> {
    let mut w = Writer {
        out: String::with_capacity(doc.len() + doc.len() / 16),
        repairs: BTreeSet::new(),
        stack: Vec::new(),
        dialect: Dialect::detect(doc),
        capture: None,
    };
    let mut at = 0;
    while at < doc.len() {
        at = if doc.as_bytes()[at] == b'<' {
            w.markup(doc, at)?
        } else {
            let end = find(doc, at, "<").unwrap_or(doc.len());
            w.text(&doc[at..end], false);
            end
        };
    }
    while let Some(open) = w.stack.pop() {
        w.repairs.insert(Repair::UnclosedElement);
        w.end_tag(&open);
    }
    Ok(Repaired {
        text: w.out,
        repairs: w.repairs,
    })
}

struct Writer {
    out: String,
    repairs: BTreeSet<Repair>,
    stack: Vec<String>,
    dialect: Dialect,
    /// Where base64 content being decoded started in `out`, and at which depth.
    capture: Option<(usize, usize)>,
}

impl Writer {
    /// Writes the construct starting with `<` at `at`; returns where the next one starts.
    fn markup(&mut self, doc: &str, at: usize) -> Result<usize, Refused> {
        let rest = &doc[at..];
        let delimited = |open: &str, close: &str| {
            rest.starts_with(open)
                .then(|| find(doc, at + open.len(), close).map(|end| end + close.len()))
        };
        if let Some(end) = delimited("<!--", "-->") {
            return Ok(self.verbatim(doc, at, end));
        }
        if let Some(end) = delimited("<![CDATA[", "]]>") {
            return Ok(self.verbatim(doc, at, end));
        }
        if let Some(end) = delimited("<?", "?>") {
            let declaration = rest.starts_with("<?xml")
                && rest.as_bytes().get(5).is_some_and(u8::is_ascii_whitespace);
            if at > 0 && declaration {
                self.repairs.insert(Repair::MisplacedDeclaration);
                return Ok(end.unwrap_or(doc.len()));
            }
            return Ok(self.verbatim(doc, at, end));
        }
        if rest.starts_with("<!") {
            return self.doctype(doc, at);
        }
        if let Some(name_at) = rest.strip_prefix("</") {
            let name = name_of(name_at);
            let Some(close) = find(doc, at + 2 + name.len(), ">") else {
                self.repairs.insert(Repair::Truncated);
                return Ok(doc.len());
            };
            self.close(name);
            return Ok(close + 1);
        }
        if name_of(&rest[1..]).is_empty() {
            self.repairs.insert(Repair::BareLessThan);
            self.out.push_str("&lt;");
            return Ok(at + 1);
        }
        Ok(self.start_tag(doc, at))
    }

    /// Comments, CDATA and processing instructions, copied without control characters.
    /// An unterminated one ends the document: CDATA is closed, the others are dropped.
    fn verbatim(&mut self, doc: &str, at: usize, end: Option<usize>) -> usize {
        let Some(end) = end else {
            self.repairs.insert(Repair::Truncated);
            if doc[at..].starts_with("<![CDATA[") {
                self.copy(&doc[at..]);
                self.out.push_str("]]>");
            }
            return doc.len();
        };
        self.copy(&doc[at..end]);
        end
    }

    fn copy(&mut self, body: &str) {
        if body.contains(is_forbidden) {
            self.repairs.insert(Repair::ControlCharacter);
            self.out.extend(body.chars().filter(|c| !is_forbidden(*c)));
        } else {
            self.out.push_str(body);
        }
    }

    fn doctype(&mut self, doc: &str, at: usize) -> Result<usize, Refused> {
        let mut depth = 0usize;
        for (offset, byte) in doc.as_bytes()[at..].iter().enumerate() {
            match byte {
                b'[' => depth += 1,
                b']' => depth = depth.saturating_sub(1),
                b'>' if depth == 0 => {
                    let declaration = &doc[at..at + offset + 1];
                    if declaration.contains("<!ENTITY") {
                        return Err(Refused::EntityDeclarations);
                    }
                    self.out.push_str(declaration);
                    return Ok(at + offset + 1);
                }
                _ => {}
            }
        }
        self.repairs.insert(Repair::Truncated);
        Ok(doc.len())
    }

    fn start_tag(&mut self, doc: &str, at: usize) -> usize {
        let original = name_of(&doc[at + 1..]).to_string();
        let mut tag = StartTag::new(original.clone());
        let mut i = at + 1 + original.len();
        let b = doc.as_bytes();
        loop {
            while b.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            match b.get(i) {
                None => {
                    self.repairs.insert(Repair::Truncated);
                    return doc.len();
                }
                Some(b'>') => break,
                Some(b'/') if b.get(i + 1) == Some(&b'>') => {
                    tag.self_closing = true;
                    i += 1;
                    break;
                }
                Some(_) => {
                    let attribute = name_of(&doc[i..]);
                    if attribute.is_empty() {
                        self.repairs.insert(Repair::Attribute);
                        i += doc[i..].chars().next().map_or(1, char::len_utf8);
                        continue;
                    }
                    match self.attribute_value(doc, i + attribute.len()) {
                        Some((value, next)) => {
                            if tag.attributes.iter().any(|(n, _)| n == attribute) {
                                self.repairs.insert(Repair::Attribute);
                            } else {
                                tag.attributes.push((attribute.to_string(), value));
                            }
                            i = next;
                        }
                        None => {
                            self.repairs.insert(Repair::Truncated);
                            return doc.len();
                        }
                    }
                }
            }
        }
        let opens = !tag.self_closing;
        if let Some(conversion) = self.dialect.start(&mut tag, self.stack.len()) {
            self.repairs.insert(Repair::Format(conversion));
        }
        self.out.push_str(&tag.render());
        if opens {
            if tag.base64 {
                self.capture = Some((self.out.len(), self.stack.len()));
            }
            self.stack.push(original);
        }
        i + 1
    }

    /// `="value"`, `='value'`, `=value` or nothing; returns the escaped value and where the
    /// tag goes on. `None` when the document ends inside the value.
    fn attribute_value(&mut self, doc: &str, mut i: usize) -> Option<(String, usize)> {
        let b = doc.as_bytes();
        let skip_space = |i: &mut usize| {
            while b.get(*i).is_some_and(u8::is_ascii_whitespace) {
                *i += 1;
            }
        };
        skip_space(&mut i);
        if b.get(i) != Some(&b'=') {
            self.repairs.insert(Repair::Attribute);
            return Some((String::new(), i));
        }
        i += 1;
        skip_space(&mut i);
        let (raw, next) = match b.get(i)? {
            quote @ (b'"' | b'\'') => {
                let end = find(doc, i + 1, if *quote == b'"' { "\"" } else { "'" })?;
                (&doc[i + 1..end], end + 1)
            }
            _ => {
                self.repairs.insert(Repair::Attribute);
                let end = doc[i..]
                    .find(|c: char| c.is_ascii_whitespace() || c == '>')
                    .map_or(doc.len(), |e| i + e);
                (&doc[i..end], end)
            }
        };
        let start = self.out.len();
        self.text(raw, true);
        let value = self.out.split_off(start);
        Some((value, next))
    }

    fn close(&mut self, name: &str) {
        let Some(open) = self.stack.iter().rposition(|n| n == name) else {
            self.repairs.insert(Repair::StrayEndTag);
            return;
        };
        while self.stack.len() > open + 1 {
            self.repairs.insert(Repair::UnclosedElement);
            if let Some(inner) = self.stack.pop() {
                self.end_tag(&inner);
            }
        }
        self.stack.pop();
        self.end_tag(name);
    }

    fn end_tag(&mut self, name: &str) {
        if let Some((start, depth)) = self.capture
            && depth == self.stack.len()
        {
            self.capture = None;
            let decoded = super::formats::decode_base64(&self.out[start..]);
            self.out.truncate(start);
            self.out.push_str(&decoded);
        }
        match self.dialect.end(name, self.stack.len()) {
            Some(replacement) => self.out.push_str(&replacement),
            None => {
                self.out.push_str("</");
                self.out.push_str(name);
                self.out.push('>');
            }
        }
    }

    /// Character data (or an attribute value, where `<` and `"` are escaped too).
    fn text(&mut self, text: &str, attribute: bool) {
        let mut rest = text;
        while let Some(special) = rest
            .find(|c: char| c == '&' || (attribute && matches!(c, '<' | '"')) || is_forbidden(c))
        {
            self.out.push_str(&rest[..special]);
            rest = &rest[special..];
            let c = rest.chars().next().unwrap_or('&');
            rest = &rest[c.len_utf8()..];
            match c {
                '&' => rest = self.reference(rest),
                '<' => self.out.push_str("&lt;"),
                '"' => self.out.push_str("&quot;"),
                _ => {
                    self.repairs.insert(Repair::ControlCharacter);
                }
            }
        }
        self.out.push_str(rest);
    }

    /// What follows an `&`: a valid reference is kept, an HTML entity becomes character
    /// references, anything else an escaped `&`. Returns the rest after it.
    fn reference<'t>(&mut self, after: &'t str) -> &'t str {
        // Bounded, so a long run of `&` without `;` stays linear.
        let end = after
            .bytes()
            .take(MAX_REFERENCE + 1)
            .position(|b| b == b';');
        let body = end.map_or("", |e| &after[..e]);
        let numeric = body
            .strip_prefix('#')
            .map(|n| match n.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => n.parse::<u32>().ok(),
            });
        let keep = match numeric {
            Some(Some(code)) => match char::from_u32(code).filter(|c| !is_forbidden(*c)) {
                Some(_) => true,
                None => {
                    self.repairs.insert(Repair::ControlCharacter);
                    return &after[body.len() + 1..];
                }
            },
            Some(None) => false,
            None => {
                let is_name = !body.is_empty()
                    && body.starts_with(|c: char| c.is_ascii_alphabetic())
                    && body.bytes().all(|b| b.is_ascii_alphanumeric());
                if is_name && matches!(body, "amp" | "lt" | "gt" | "quot" | "apos") {
                    true
                } else if is_name && let Some(chars) = html_entity(body) {
                    self.repairs.insert(Repair::HtmlEntity);
                    for c in chars.chars() {
                        self.out.push_str(&format!("&#{};", u32::from(c)));
                    }
                    return &after[body.len() + 1..];
                } else {
                    false
                }
            }
        };
        if keep {
            self.out.push('&');
            // XML allows only a lower-case `x` in `&#x…;`.
            if let Some(hex) = body.strip_prefix("#X") {
                self.out.push_str("#x");
                self.out.push_str(hex);
            } else {
                self.out.push_str(body);
            }
            self.out.push(';');
            &after[body.len() + 1..]
        } else {
            self.repairs.insert(Repair::BareAmpersand);
            self.out.push_str("&amp;");
            after
        }
    }
}

#[cfg(test)]
mod tests;
