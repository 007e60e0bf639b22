//! The figures a text states, each with the word it follows: "raises $10B" gives `raises 10b`,
//! "week 44" gives `week 44`. Two copies of a story that state different figures after the same
//! word are two stories.

/// Words that say nothing about what a figure counts ("in 2026", "of 10").
const FILLER: [&str; 24] = [
    "a", "an", "and", "as", "at", "by", "for", "from", "in", "is", "it", "its", "of", "on", "or",
    "than", "that", "the", "to", "was", "were", "with", "about", "over",
];

/// Unit words and their short forms, joined to the figure before them.
const UNITS: [(&str, &str); 10] = [
    ("billion", "b"),
    ("bn", "b"),
    ("million", "m"),
    ("mn", "m"),
    ("thousand", "k"),
    ("trillion", "t"),
    ("percent", "%"),
    ("per", "%"),
    ("%", "%"),
    ("pct", "%"),
];

/// Every figure of `text` as `context figure`, in order. Only tokens with a digit are looked
/// at; each one's context is searched back to the previous such token only, so every byte is
/// read at most twice however the text is made.
pub fn figures(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let (mut read, mut context) = (0, None);
    while let Some(digit) = first_digit(&bytes[read..]) {
        let digit = read + digit;
        // Token bounds are ASCII whitespace (or the ends), so they are char boundaries.
        let start = bytes[..digit]
            .iter()
            .rposition(u8::is_ascii_whitespace)
            .map_or(0, |p| p + 1);
        let end = bytes[digit..]
            .iter()
            .position(u8::is_ascii_whitespace)
            .map_or(bytes.len(), |p| digit + p);
        if let Some(nearer) = self::context(&text[read..start]) {
            context = Some(nearer);
        }
        read = end;
        let (Some(context), Some(mut figure)) = (&context, figure(&text[start..end])) else {
            continue;
        };
        let bare = figure.chars().all(|c| c.is_ascii_digit() || c == '.');
        if let Some(next) = text[end..].split_ascii_whitespace().next().filter(|_| bare) {
            let next = next.trim_matches(|c: char| !c.is_alphanumeric() && c != '%');
            let unit = UNITS
                .iter()
                .find(|(word, _)| next.eq_ignore_ascii_case(word));
            if let Some((_, short)) = unit {
                figure.push_str(short);
            }
        }
        found.push(format!("{context} {figure}"));
    }
    found
}

/// Where the first ASCII digit of `bytes` is. Eight bytes are tested at once, as most of a
/// text has no digit and a byte at a time cost more than the rest of finding figures.
fn first_digit(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    let mut chunks = bytes.chunks_exact(8);
    for (n, chunk) in (&mut chunks).enumerate() {
        let mut eight = [0; 8];
        eight.copy_from_slice(chunk);
        let x = u64::from_le_bytes(eight);
        // Per byte, with its top bit cleared: above '/' and below ':', and the top bit was
        // clear. No sum or difference carries into the next byte.
        let low = x & (ONES * 0x7f);
        let digits = (ONES * (127 + 0x3a) - low) & !x & (low + ONES * (127 - 0x2f)) & (ONES * 0x80);
        if digits != 0 {
            return Some(8 * n + digits.trailing_zeros() as usize / 8);
        }
    }
    let rest = chunks.remainder();
    rest.iter()
        .position(u8::is_ascii_digit)
        .map(|p| bytes.len() - rest.len() + p)
}

/// The last word of `before` that says what a figure counts, in lower case.
fn context(before: &str) -> Option<String> {
    before.split_ascii_whitespace().rev().find_map(|token| {
        let word: String = token
            .chars()
            .filter(|c| c.is_alphabetic())
            .flat_map(char::to_lowercase)
            .collect();
        (!word.is_empty() && !FILLER.contains(&word.as_str())).then_some(word)
    })
}

/// A token that states a number, normalised: currency signs and thousands separators
/// dropped, letters lower case (`$10B` → `10b`, `1,200` → `1200`, `4.5%` → `4.5%`).
fn figure(token: &str) -> Option<String> {
    let trimmed = token.trim_matches(|c: char| !c.is_alphanumeric() && c != '%');
    let trimmed = trimmed.strip_suffix('s').unwrap_or(trimmed);
    let normal: String = trimmed
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '%'))
        .flat_map(char::to_lowercase)
        .collect();
    // Words with a digit inside ("covid19", "h264") are names, not figures.
    let starts_with_digit = normal.chars().next().is_some_and(|c| c.is_ascii_digit());
    let letters = normal.chars().filter(|c| c.is_alphabetic()).count();
    (starts_with_digit && letters <= 2).then_some(normal)
}

#[cfg(test)]
mod tests {
    use super::{UNITS, context, figure, figures, first_digit};

    #[test]
    fn the_first_digit_is_found_wherever_it_is_and_whatever_surrounds_it() {
        for byte in 0..=u8::MAX {
            for at in 0..20 {
                let mut bytes = vec![b'x'; 20];
                bytes[at] = byte;
                let expected = byte.is_ascii_digit().then_some(at);
                assert_eq!(first_digit(&bytes), expected, "{byte:#x} at {at}");
                // A digit, with that byte beside it.
                bytes[at] = b'7';
                bytes[(at + 1) % 20] = byte;
                let expected = bytes.iter().position(u8::is_ascii_digit);
                assert_eq!(first_digit(&bytes), expected, "{byte:#x} after {at}");
            }
        }
    }

    #[test]
    fn figures_come_with_the_word_before_them() {
        assert_eq!(figures("OpenAI raises $10B from investors"), ["raises 10b"]);
        assert_eq!(figures("OpenAI raises $10 billion"), ["raises 10b"]);
        assert_eq!(figures("Digest for week 44."), ["week 44"]);
        assert_eq!(figures("grew 12% in 2026"), ["grew 12%", "grew 2026"]);
        assert_eq!(figures("sold 1,200 units"), ["sold 1200"]);
    }

    #[test]
    fn names_with_digits_are_not_figures() {
        assert!(figures("the covid19 wave and h264 video").is_empty());
    }

    /// The definition, token by token: each figure's context is the last word before it
    /// that has no digit and is not filler.
    fn by_tokens(text: &str) -> Vec<String> {
        let tokens: Vec<&str> = text.split_ascii_whitespace().collect();
        let mut found = Vec::new();
        for (n, token) in tokens.iter().enumerate() {
            if !token.bytes().any(|b| b.is_ascii_digit()) {
                continue;
            }
            let Some(mut figure) = figure(token) else {
                continue;
            };
            if figure.chars().all(|c| c.is_ascii_digit() || c == '.')
                && let Some(next) = tokens.get(n + 1)
            {
                let next = next.trim_matches(|c: char| !c.is_alphanumeric() && c != '%');
                if let Some((_, short)) = UNITS.iter().find(|(w, _)| next.eq_ignore_ascii_case(w)) {
                    figure.push_str(short);
                }
            }
            let context = tokens[..n]
                .iter()
                .rev()
                .filter(|t| !t.bytes().any(|b| b.is_ascii_digit()))
                .find_map(|t| context(t));
            if let Some(context) = context {
                found.push(format!("{context} {figure}"));
            }
        }
        found
    }

    #[test]
    fn figures_are_found_as_the_token_by_token_definition_finds_them() {
        const TOKENS: [&str; 16] = [
            "raises", "the", "of", "$10B", "10", "billion", "week", "44.", "Über", "12%", "in",
            "h264", "(2026)", "—", "1,200", "Millions",
        ];
        const GAPS: [&str; 4] = [" ", "  ", "\n", "\t "];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % below as u64) as usize
        };
        for _ in 0..2_000 {
            let mut text = String::new();
            for _ in 0..next(12) {
                text.push_str(TOKENS[next(TOKENS.len())]);
                text.push_str(GAPS[next(GAPS.len())]);
            }
            assert_eq!(figures(&text), by_tokens(&text), "{text:?}");
        }
    }
}
