use std::time::Duration;

use super::*;
use crate::parse::Limits;

/// An RSS document big enough that parsing it takes a noticeable while.
fn big_document() -> Vec<u8> {
    let items: String = (0..20_000)
        .map(|i| {
            format!(
                "<item><guid>g{i}</guid><title>Story {i}</title>\
                 <description>&lt;p&gt;Text of story {i} #tag{i}&lt;/p&gt;</description></item>"
            )
        })
        .collect();
    format!("<rss version=\"2.0\"><channel><title>Big</title>{items}</channel></rss>").into_bytes()
}

#[tokio::test]
async fn an_abandoned_parse_keeps_its_slot_until_it_ends() {
    let parsing = Parsing::new(Limits::NONE, 1).expect("parsing thread");
    let url = Url::parse("https://big.example/feed").expect("url");
    let given_up = parse_and_process(
        big_document(),
        url,
        None,
        &parsing,
        (Duration::ZERO, Some(Duration::from_secs(3 * 86_400))),
        chrono::Utc::now(),
    )
    .await;
    assert!(
        matches!(given_up, Err(ParseError::TooSlow(_))),
        "{:?}",
        given_up.map(|d| d.items.len())
    );
    // The poll has given up, but the parse still runs and still holds the only slot: another
    // document would wait rather than be parsed beside it.
    assert_eq!(parsing.free_slots(), 0);
    let next = parsing.run(Duration::from_secs(60), |_| Ok(()));
    assert!(
        next.await.is_ok(),
        "the slot comes back when the parse ends"
    );
}

#[tokio::test]
async fn a_panic_while_parsing_fails_that_document_and_the_thread_goes_on() {
    let parsing = Parsing::new(Limits::NONE, 1).expect("parsing thread");
    let crashed = parsing
        .run(Duration::from_secs(60), |_| -> Result<(), ParseError> {
            panic!("a parser bug")
        })
        .await;
    assert!(matches!(crashed, Err(ParseError::Panicked)), "{crashed:?}");
    let next = parsing.run(Duration::from_secs(60), |limits| Ok(limits.max_items));
    assert_eq!(next.await.ok(), Some(Limits::NONE.max_items));
}

/// Stories older than the near window are never compared, so they are not shaped; the
/// window's are, with the boilerplate of the whole document discounted.
#[tokio::test]
async fn only_items_within_the_near_window_get_a_shape() {
    let parsing = Parsing::new(Limits::NONE, 1).expect("parsing thread");
    let now = chrono::Utc::now();
    let text = |n: usize| -> String {
        (0..60)
            .map(|w| format!("word{} ", (w * 7 + n * 13) % 97))
            .collect()
    };
    let item = |n: usize, age_days: i64| {
        format!(
            "<item><guid>g{n}</guid><title>Story {n}</title><pubDate>{}</pubDate>\
             <description>{}</description></item>",
            (now - chrono::TimeDelta::days(age_days)).to_rfc2822(),
            text(n)
        )
    };
    let document = format!(
        "<rss version=\"2.0\"><channel><title>T</title>{}{}{}</channel></rss>",
        item(0, 0),
        item(1, 2),
        item(2, 10)
    );
    let read = |window| {
        parse_and_process(
            document.clone().into_bytes(),
            Url::parse("https://site.example/feed").expect("url"),
            None,
            &parsing,
            (Duration::from_secs(60), window),
            now,
        )
    };
    let shaped =
        |feed: &ReadFeed| -> Vec<bool> { feed.items.iter().map(|i| i.shape.is_some()).collect() };
    let three_days = read(Some(Duration::from_secs(3 * 86_400)))
        .await
        .expect("parsed");
    assert_eq!(shaped(&three_days), [true, true, false]);
    let one_day = read(Some(Duration::from_secs(86_400)))
        .await
        .expect("parsed");
    assert_eq!(shaped(&one_day), [true, false, false]);
    let off = read(None).await.expect("parsed");
    assert_eq!(shaped(&off), [false, false, false]);
}

#[tokio::test]
async fn documents_are_parsed_at_background_priority() {
    let parsing = Parsing::new(Limits::NONE, 1).expect("parsing thread");
    let nice = parsing
        .run(Duration::from_secs(60), |_| {
            Ok(crate::priority::current_thread_nice())
        })
        .await
        .expect("parsed");
    assert!(nice.is_some());
    assert_eq!(nice, crate::priority::background_nice_from_here());
}
