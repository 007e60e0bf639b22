//! Splits a filter expression into tokens, each with its column.

use super::FilterError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Tag(String),
    Feed(String),
    Phrase(String),
    TitlePhrase(String),
    And,
    Or,
    Not,
    Minus,
    Open,
    Close,
}

/// A token and the zero-based character column where it starts.
pub type Spanned = (Token, usize);

/// Characters that end a bare word.
fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"')
}

pub fn tokenize(expr: &str) -> Result<Vec<Spanned>, FilterError> {
    let chars: Vec<char> = expr.chars().collect();
    let error = |column: usize, message: String| FilterError {
        expr: expr.to_string(),
        column,
        message,
    };
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | ')' => {
                tokens.push((if c == '(' { Token::Open } else { Token::Close }, start));
                i += 1;
            }
            '-' => {
                tokens.push((Token::Minus, start));
                i += 1;
            }
            '"' => {
                let (phrase, next) = quoted(&chars, i).map_err(|m| error(start, m))?;
                tokens.push((Token::Phrase(phrase), start));
                i = next;
            }
            _ => {
                let word_end = (i..chars.len())
                    .find(|&j| ends_word(chars[j]))
                    .unwrap_or(chars.len());
                let word: String = chars[i..word_end].iter().collect();
                let lower = word.to_lowercase();
                let token = if let Some(tag) = word.strip_prefix('#') {
                    if tag.is_empty() {
                        return Err(error(start, "expected a tag name after `#`".into()));
                    }
                    Token::Tag(tag.to_string())
                } else if lower == "title:" && chars.get(word_end) == Some(&'"') {
                    let (phrase, next) =
                        quoted(&chars, word_end).map_err(|m| error(word_end, m))?;
                    i = next;
                    tokens.push((Token::TitlePhrase(phrase), start));
                    continue;
                } else if lower.starts_with("feed:") {
                    let name = &word["feed:".len()..];
                    if name.is_empty() {
                        return Err(error(start, "expected a feed name after `feed:`".into()));
                    }
                    Token::Feed(name.to_string())
                } else {
                    match lower.as_str() {
                        "and" => Token::And,
                        "or" => Token::Or,
                        "not" => Token::Not,
                        _ => {
                            return Err(error(
                                start,
                                format!(
                                    "unknown term `{word}`: write a tag as `#{word}`, a phrase as `\"{word}\"`, or `feed:NAME`"
                                ),
                            ));
                        }
                    }
                };
                tokens.push((token, start));
                i = word_end;
            }
        }
    }
    Ok(tokens)
}

/// The text of a quoted phrase starting at `open`, and the index after its closing quote.
fn quoted(chars: &[char], open: usize) -> Result<(String, usize), String> {
    let close = (open + 1..chars.len())
        .find(|&j| chars[j] == '"')
        .ok_or_else(|| "unclosed quote".to_string())?;
    let phrase: String = chars[open + 1..close].iter().collect();
    if phrase.trim().is_empty() {
        return Err("empty phrase".into());
    }
    Ok((phrase, close + 1))
}
