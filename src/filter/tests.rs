use proptest::prelude::*;

use super::*;

fn tag(t: &str) -> Expr {
    Expr::Tag(t.into())
}
fn not(e: Expr) -> Expr {
    Expr::Not(Box::new(e))
}
fn and(l: Expr, r: Expr) -> Expr {
    Expr::And(Box::new(l), Box::new(r))
}
fn or(l: Expr, r: Expr) -> Expr {
    Expr::Or(Box::new(l), Box::new(r))
}

#[test]
fn terms_of_every_kind_parse() {
    assert_eq!(parse("#OpenAI"), Ok(tag("OpenAI")));
    assert_eq!(
        parse("feed:venturebeat"),
        Ok(Expr::Feed("venturebeat".into()))
    );
    assert_eq!(
        parse("\"language model\""),
        Ok(Expr::Phrase("language model".into()))
    );
    assert_eq!(parse("title:\"GPT\""), Ok(Expr::TitlePhrase("GPT".into())));
    assert_eq!(parse("#人工智能"), Ok(tag("人工智能")));
}

#[test]
fn and_binds_tighter_than_or_and_not_tightest() {
    assert_eq!(
        parse("#a or #b and not #c"),
        Ok(or(tag("a"), and(tag("b"), not(tag("c")))))
    );
    assert_eq!(
        parse("(#a or #b) and -#c"),
        Ok(and(or(tag("a"), tag("b")), not(tag("c"))))
    );
    assert_eq!(parse("not #a or #b"), Ok(or(not(tag("a")), tag("b"))));
}

#[test]
fn terms_side_by_side_mean_and() {
    assert_eq!(parse("#OpenAI #Microsoft"), parse("#OpenAI and #Microsoft"));
    assert_eq!(parse("#a -#b"), Ok(and(tag("a"), not(tag("b")))));
}

#[test]
fn keywords_are_case_insensitive() {
    assert_eq!(parse("#a AND NOT #b OR #c"), parse("#a and not #b or #c"));
}

#[test]
fn bad_expressions_point_at_the_problem() {
    let cases = [
        ("", 0, "empty"),
        ("#a and", 6, "expected a term"),
        ("#a or or #b", 6, "expected a term"),
        ("(#a or #b", 0, "never closed"),
        ("#a )", 3, "without a matching"),
        ("#a \"open", 3, "unclosed quote"),
        ("# a", 0, "tag name"),
        ("#a crypto", 3, "unknown term `crypto`"),
        ("feed:", 0, "feed name"),
        ("#a ()", 4, "expected a term before `)`"),
    ];
    for (expr, column, message) in cases {
        let err = parse(expr).expect_err(expr);
        assert_eq!(err.column, column, "{expr}: {err}");
        assert!(err.message.contains(message), "{expr}: {err}");
        assert_eq!(err.expr, expr);
    }
}

#[test]
fn errors_quote_the_expression_and_point_at_the_column() {
    let err = parse("#a and").expect_err("incomplete");
    assert_eq!(
        err.to_string(),
        "expected a term at the end at column 7 of the filter\n  #a and\n        ^"
    );
}

fn term() -> impl Strategy<Value = Expr> {
    prop_oneof![
        "[A-Za-z][A-Za-z0-9_]{0,8}".prop_map(Expr::Tag),
        "[a-z][a-z0-9.-]{0,8}".prop_map(Expr::Feed),
        "[a-z][a-z ]{0,8}[a-z]".prop_map(Expr::Phrase),
        "[a-z][a-z ]{0,8}[a-z]".prop_map(Expr::TitlePhrase),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    term().prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Expr::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner).prop_map(|(l, r)| Expr::Or(Box::new(l), Box::new(r))),
        ]
    })
}

proptest! {
    #[test]
    fn printing_then_parsing_gives_the_same_expression(e in expr()) {
        prop_assert_eq!(parse(&e.to_string()), Ok(e));
    }
}
