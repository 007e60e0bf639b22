//! Recursive descent over the tokens: `or` binds loosest, then `and` (explicit or by
//! juxtaposition), then `not` / `-` before a single term.

use super::lexer::{Spanned, Token, tokenize};
use super::{Expr, FilterError};

/// Parses a filter expression, or says where and why it is wrong.
pub fn parse(expr: &str) -> Result<Expr, FilterError> {
    let tokens = tokenize(expr)?;
    let mut parser = Parser {
        expr,
        tokens: &tokens,
        pos: 0,
    };
    if tokens.is_empty() {
        return Err(parser.error(0, "the filter is empty"));
    }
    let parsed = parser.or()?;
    match parser.peek() {
        None => Ok(parsed),
        Some((Token::Close, col)) => Err(parser.error(*col, "`)` without a matching `(`")),
        Some((_, col)) => Err(parser.error(*col, "unexpected term")),
    }
}

struct Parser<'a> {
    expr: &'a str,
    tokens: &'a [Spanned],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Spanned> {
        self.tokens.get(self.pos)
    }

    fn error(&self, column: usize, message: &str) -> FilterError {
        FilterError {
            expr: self.expr.to_string(),
            column,
            message: message.to_string(),
        }
    }

    /// The column just past the last token, for "expected … at the end" errors.
    fn end_column(&self) -> usize {
        self.expr.chars().count()
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while let Some((Token::Or, _)) = self.peek() {
            self.pos += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.term()?;
        loop {
            match self.peek() {
                Some((Token::And, _)) => self.pos += 1,
                Some((Token::Or | Token::Close, _)) | None => return Ok(left),
                Some(_) => {}
            }
            let right = self.term()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
    }

    fn term(&mut self) -> Result<Expr, FilterError> {
        let Some((token, column)) = self.peek().cloned() else {
            return Err(self.error(self.end_column(), "expected a term at the end"));
        };
        self.pos += 1;
        match token {
            Token::Tag(t) => Ok(Expr::Tag(t)),
            Token::Feed(n) => Ok(Expr::Feed(n)),
            Token::Phrase(p) => Ok(Expr::Phrase(p)),
            Token::TitlePhrase(p) => Ok(Expr::TitlePhrase(p)),
            Token::Open => {
                let inner = self.or()?;
                match self.peek() {
                    Some((Token::Close, _)) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    Some((_, col)) => Err(self.error(*col, "expected `)`")),
                    None => Err(self.error(column, "`(` is never closed")),
                }
            }
            Token::Close => Err(self.error(column, "expected a term before `)`")),
            Token::And | Token::Or => {
                Err(self.error(column, "expected a term before this operator"))
            }
            Token::Not | Token::Minus => Ok(Expr::Not(Box::new(self.term()?))),
        }
    }
}
