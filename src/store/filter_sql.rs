//! Filter expressions as SQL conditions on `items i`, evaluated when an output is served,
//! so a changed filter applies to everything already stored.

use rusqlite::types::Value;

use crate::filter::Expr;
use crate::process::tag_key;

/// A `WHERE` condition with its positional parameters.
#[derive(Debug, Default)]
pub struct Condition {
    pub sql: String,
    pub params: Vec<Value>,
}

/// Translates `expr` into a condition over `items i`.
pub fn condition(expr: &Expr) -> Condition {
    let mut cond = Condition::default();
    write(expr, &mut cond);
    cond
}

fn write(expr: &Expr, cond: &mut Condition) {
    match expr {
        Expr::Tag(label) => {
            let n = push(cond, tag_key(label));
            cond.sql.push_str(&format!(
                "(i.id IN (SELECT item_id FROM item_tags WHERE key = ?{n}) OR i.id IN \
                 (SELECT item_id FROM sources WHERE feed_id IN (SELECT feed_id FROM feed_tags WHERE key = ?{n})))"
            ));
        }
        Expr::Feed(name) => {
            let n = push(cond, name.clone());
            cond.sql.push_str(&format!(
                "i.id IN (SELECT item_id FROM sources WHERE feed_id IN (SELECT id FROM feeds WHERE name = ?{n}))"
            ));
        }
        Expr::Phrase(phrase) => phrase_match(cond, fts_phrase(phrase)),
        Expr::TitlePhrase(phrase) => {
            phrase_match(cond, format!("{{title}} : {}", fts_phrase(phrase)))
        }
        Expr::Not(inner) => {
            cond.sql.push_str("NOT (");
            write(inner, cond);
            cond.sql.push(')');
        }
        Expr::And(l, r) | Expr::Or(l, r) => {
            cond.sql.push('(');
            write(l, cond);
            cond.sql.push_str(if matches!(expr, Expr::And(..)) {
                " AND "
            } else {
                " OR "
            });
            write(r, cond);
            cond.sql.push(')');
        }
    }
}

fn phrase_match(cond: &mut Condition, query: String) {
    let n = push(cond, query);
    cond.sql.push_str(&format!(
        "i.id IN (SELECT rowid FROM item_text WHERE item_text MATCH ?{n})"
    ));
}

/// An FTS5 phrase: the text in double quotes, inner quotes doubled, so no operator inside
/// the user's phrase is interpreted.
fn fts_phrase(phrase: &str) -> String {
    format!("\"{}\"", phrase.replace('"', "\"\""))
}

fn push(cond: &mut Condition, value: String) -> usize {
    cond.params.push(Value::Text(value));
    cond.params.len()
}
