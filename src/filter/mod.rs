//! The filter language of outputs, queries and searches:
//! `#AI and not #crypto`, `-term`, parentheses, `feed:NAME`, `"phrase"`, `title:"phrase"`;
//! terms side by side mean `and`. Parsing keeps positions so errors can point at them.

mod lexer;
mod parser;

use std::fmt;

pub use parser::parse;

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// Items carrying this tag (spelled as written; matched by its key).
    Tag(String),
    /// Items with this feed among their sources.
    Feed(String),
    /// Items whose title or text contains the phrase, case-insensitively.
    Phrase(String),
    /// Items whose title contains the phrase, case-insensitively.
    TitlePhrase(String),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

impl Expr {
    /// The feed names the expression's `feed:` terms name.
    pub fn feed_names(&self) -> Vec<&str> {
        match self {
            Expr::Feed(name) => vec![name.as_str()],
            Expr::Tag(_) | Expr::Phrase(_) | Expr::TitlePhrase(_) => Vec::new(),
            Expr::Not(inner) => inner.feed_names(),
            Expr::And(a, b) | Expr::Or(a, b) => {
                let mut names = a.feed_names();
                names.extend(b.feed_names());
                names
            }
        }
    }
}

/// A filter expression that does not parse, with the position of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at column {column} of the filter\n  {expr}\n  {pointer}^", column = .column + 1, pointer = " ".repeat(*.column))]
pub struct FilterError {
    pub expr: String,
    /// Zero-based, in characters.
    pub column: usize,
    pub message: String,
}

impl Expr {
    /// The terms (leaves) of the expression, left to right.
    pub fn terms(&self) -> Vec<&Expr> {
        match self {
            Expr::Not(e) => e.terms(),
            Expr::And(l, r) | Expr::Or(l, r) => {
                let mut terms = l.terms();
                terms.extend(r.terms());
                terms
            }
            term => vec![term],
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Expr::Or(..) => 1,
            Expr::And(..) => 2,
            _ => 3,
        }
    }

    fn write_child(&self, f: &mut fmt::Formatter<'_>, child: &Expr, right: bool) -> fmt::Result {
        let parens = child.precedence() < self.precedence()
            || (right && child.precedence() == self.precedence());
        if parens {
            write!(f, "({child})")
        } else {
            write!(f, "{child}")
        }
    }
}

/// Prints the expression in the language's own syntax, with only the parentheses it needs.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Tag(t) => write!(f, "#{t}"),
            Expr::Feed(n) => write!(f, "feed:{n}"),
            Expr::Phrase(p) => write!(f, "\"{p}\""),
            Expr::TitlePhrase(p) => write!(f, "title:\"{p}\""),
            Expr::Not(e) => {
                f.write_str("not ")?;
                self.write_child(f, e, false)
            }
            Expr::And(l, r) | Expr::Or(l, r) => {
                self.write_child(f, l, false)?;
                f.write_str(if matches!(self, Expr::And(..)) {
                    " and "
                } else {
                    " or "
                })?;
                self.write_child(f, r, true)
            }
        }
    }
}

#[cfg(test)]
mod tests;
