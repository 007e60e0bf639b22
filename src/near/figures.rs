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

/// Every figure of `text` as `context figure`, in order.
pub fn figures(text: &str) -> Vec<String> {
    let tokens: Vec<&str> = text.split_ascii_whitespace().collect();
    let mut found = Vec::new();
    for (n, token) in tokens.iter().enumerate() {
        if !token.bytes().any(|b| b.is_ascii_digit()) {
            continue;
        }
        let Some(mut figure) = figure(token) else {
            continue;
        };
        let bare = figure.chars().all(|c| c.is_ascii_digit() || c == '.');
        if let Some(next) = tokens.get(n + 1).filter(|_| bare) {
            let next = next.trim_matches(|c: char| !c.is_alphanumeric() && c != '%');
            let unit = UNITS
                .iter()
                .find(|(word, _)| next.eq_ignore_ascii_case(word));
            if let Some((_, short)) = unit {
                figure.push_str(short);
            }
        }
        if let Some(context) = context(&tokens[..n]) {
            found.push(format!("{context} {figure}"));
        }
    }
    found
}

/// The last word before a figure that says what it counts, in lower case.
fn context(before: &[&str]) -> Option<String> {
    before.iter().rev().find_map(|token| {
        if token.bytes().any(|b| b.is_ascii_digit()) {
            return None;
        }
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
    if !token.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
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
    use super::figures;

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
}
