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
        (Duration::ZERO, true),
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
