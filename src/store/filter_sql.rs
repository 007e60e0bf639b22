//! Filter expressions as SQL conditions on `items i`, evaluated when an output is served,
//! so a changed filter applies to everything already stored.

use rusqlite::types::Value;

use crate::filter::Expr;
use crate::text::tag_key;

/// A `WHERE` condition with its positional parameters.
#[derive(Debug, Default)]
pub struct Condition {
    pub sql: String,
    pub params: Vec<Value>,
}

/// How a condition tests each term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Index probes per candidate row: cheap when few rows are scanned (the newest items).
    Probe,
    /// Each term's item set built once: cheap when the sets are small.
    Set,
}

/// Translates `expr` into a condition over `items i`. In [`Mode::Set`], only the terms that
/// can narrow the result cheaply become sets: in each `and`, the side with the fewer items
/// (`size` estimates a term's items; `None` means unknown, taken as many); the other side
/// and every negated term are probed per candidate.
pub fn condition(expr: &Expr, mode: Mode, size: &dyn Fn(&Expr) -> Option<u64>) -> Condition {
    let mut cond = Condition::default();
    write(expr, mode, size, &mut cond);
    cond
}

/// A term whose items an index lists directly.
enum SetLeaf<'a> {
    Tag(&'a str),
    Feed(&'a str),
}

impl<'a> SetLeaf<'a> {
    fn of(expr: &'a Expr) -> Option<SetLeaf<'a>> {
        match expr {
            Expr::Tag(label) => Some(SetLeaf::Tag(label)),
            Expr::Feed(name) => Some(SetLeaf::Feed(name)),
            _ => None,
        }
    }

    /// The ids of the items the term selects, as a subquery.
    fn subquery(&self, cond: &mut Condition) -> String {
        match self {
            SetLeaf::Tag(label) => tagged_items(push(cond, tag_key(label)), Mode::Set),
            SetLeaf::Feed(name) => fed_items(push(cond, name.to_string()), Mode::Set),
        }
    }
}

/// The items with the tag whose key is parameter `n`: by their own categories and
/// hashtags, or through a feed tagged so. `Probe` restricts both halves to item `i`.
fn tagged_items(n: usize, mode: Mode) -> String {
    let this_item = restriction(mode);
    format!(
        "SELECT item_id FROM item_tags WHERE key = ?{n}{this_item} UNION \
         SELECT item_id FROM sources WHERE feed_id IN \
         (SELECT feed_id FROM feed_tags WHERE key = ?{n}){this_item}"
    )
}

/// The items with the feed named by parameter `n` among their sources.
fn fed_items(n: usize, mode: Mode) -> String {
    let this_item = restriction(mode);
    format!(
        "SELECT item_id FROM sources WHERE feed_id IN \
         (SELECT id FROM feeds WHERE name = ?{n}){this_item}"
    )
}

/// A probe looks only at the row of item `i`, through the `item_id` indexes.
fn restriction(mode: Mode) -> &'static str {
    match mode {
        Mode::Set => "",
        Mode::Probe => " AND item_id = i.id",
    }
}

/// `items` (a subquery of item ids) as a condition on item `i`: one set built for the
/// whole query, or an existence probe per row.
fn selects(mode: Mode, items: &str) -> String {
    match mode {
        Mode::Set => format!("i.id IN ({items})"),
        Mode::Probe => format!("EXISTS ({items})"),
    }
}

/// How many items `expr` may select, for choosing which side of an `and` builds a set.
fn estimate(expr: &Expr, size: &dyn Fn(&Expr) -> Option<u64>) -> u64 {
    match expr {
        Expr::Not(_) => u64::MAX,
        Expr::And(l, r) => estimate(l, size).min(estimate(r, size)),
        Expr::Or(l, r) => estimate(l, size).saturating_add(estimate(r, size)),
        leaf => size(leaf).unwrap_or(u64::MAX / 4),
    }
}

fn write(expr: &Expr, mode: Mode, size: &dyn Fn(&Expr) -> Option<u64>, cond: &mut Condition) {
    let sql = match (expr, mode) {
        (Expr::Tag(label), _) => selects(mode, &tagged_items(push(cond, tag_key(label)), mode)),
        (Expr::Feed(name), _) => selects(mode, &fed_items(push(cond, name.clone()), mode)),
        (Expr::Phrase(phrase), _) => phrase_match(cond, fts_phrase(phrase), mode),
        (Expr::TitlePhrase(phrase), _) => {
            phrase_match(cond, format!("{{title}} : {}", fts_phrase(phrase)), mode)
        }
        (Expr::Not(inner), _) => {
            cond.sql.push_str("NOT (");
            write(inner, Mode::Probe, size, cond);
            cond.sql.push(')');
            return;
        }
        (Expr::And(l, r), Mode::Set) => {
            if let (Some(a), Some(b)) = (SetLeaf::of(l), SetLeaf::of(r)) {
                // Two index ranges intersected cost their sizes; probing one per item of the
                // other costs far more when both are large and their overlap small.
                let (left, right) = (a.subquery(cond), b.subquery(cond));
                cond.sql
                    .push_str(&format!("i.id IN ({left} INTERSECT {right})"));
                return;
            }
            let (lmode, rmode) = if estimate(l, size) <= estimate(r, size) {
                (Mode::Set, Mode::Probe)
            } else {
                (Mode::Probe, Mode::Set)
            };
            cond.sql.push('(');
            write(l, lmode, size, cond);
            cond.sql.push_str(" AND ");
            write(r, rmode, size, cond);
            cond.sql.push(')');
            return;
        }
        (Expr::And(l, r) | Expr::Or(l, r), _) => {
            cond.sql.push('(');
            write(l, mode, size, cond);
            cond.sql.push_str(if matches!(expr, Expr::And(..)) {
                " AND "
            } else {
                " OR "
            });
            write(r, mode, size, cond);
            cond.sql.push(')');
            return;
        }
    };
    cond.sql.push_str(&sql);
}

fn phrase_match(cond: &mut Condition, query: String, mode: Mode) -> String {
    let n = push(cond, query);
    // FTS5 answers a phrase fastest as a whole set; asked row by row it re-reads its index.
    // In probe mode the unary `+` keeps the set from driving the scan of the newest items.
    let id = if mode == Mode::Probe { "+i.id" } else { "i.id" };
    format!("{id} IN (SELECT rowid FROM search.item_text WHERE item_text MATCH ?{n})")
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
