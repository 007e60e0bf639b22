//! Article extraction benchmark: pages of realistic size (50–300 KB: navigation, banners,
//! scripts, a story of 8–40 paragraphs, comments, related links), extracted one after another
//! on one core as `fulltext` does on a parsing thread. Prints pages/s, MB/s, the share of the
//! story kept, and peak RSS. The queue itself is in the database: in memory there are at most
//! 16 jobs (URLs) and 2 pages being fetched or extracted at once.
//!
//! Run: `cargo bench --bench article` (or `-- N` pages; default 200).

mod support;

use std::time::Instant;

use feedsift::article::extract;
use support::{Rng, word};

fn main() {
    let pages: usize = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(200);
    let mut rng = Rng::new(3);
    let (mut bytes, mut kept_all) = (0usize, 0);
    let mut took = std::time::Duration::ZERO;
    // Pages are made one at a time, so peak RSS is that of extracting one page.
    for n in 0..pages {
        let (html, last_sentence) = page(n, &mut rng);
        bytes += html.len();
        let started = Instant::now();
        let article = extract(
            html.as_bytes(),
            Some("utf-8"),
            &format!("https://site{n}.example/story"),
        )
        .expect("an article");
        took += started.elapsed();
        if article.text.contains(last_sentence.as_str()) {
            kept_all += 1;
        }
    }
    let took = took.as_secs_f64();
    println!(
        "article: {pages} pages, {:.1} MB (mean {:.0} KB) in {took:.2} s: {:.0} pages/s, {:.1} MB/s on one core; story kept to its end in {kept_all}/{pages}",
        bytes as f64 / 1e6,
        bytes as f64 / pages as f64 / 1e3,
        pages as f64 / took,
        bytes as f64 / 1e6 / took
    );
    println!("peak RSS: {:.0} MiB", support::peak_rss_mib());
}

/// A page of 50–300 KB and the last sentence of its story.
fn page(n: usize, rng: &mut Rng) -> (String, String) {
    let sentence = |rng: &mut Rng| -> String {
        let words: Vec<String> = (0..14).map(|_| word(rng.skewed(5000))).collect();
        format!("{}.", words.join(" "))
    };
    let target = 50_000 + rng.below(250_000);
    let paragraphs = 8 + rng.below(33);
    let story: Vec<String> = (0..paragraphs)
        .map(|_| {
            format!(
                "<p>{} {} {}</p>",
                sentence(rng),
                sentence(rng),
                sentence(rng)
            )
        })
        .collect();
    let last = story
        .last()
        .and_then(|p| p.rsplit(". ").next())
        .map(|s| s.trim_end_matches("</p>").trim_end_matches('.').to_string())
        .unwrap_or_default();
    let nav: String = (0..60)
        .map(|i| format!("<li><a href=\"/section/{i}\">{}</a></li>", word(i)))
        .collect();
    let comments: String = (0..20)
        .map(|i| {
            format!(
                "<div class=\"comment\"><b>user{i}</b> {}</div>",
                sentence(rng)
            )
        })
        .collect();
    let related: String = (0..15)
        .map(|i| format!("<li><a href=\"/story/{i}\">{}</a></li>", sentence(rng)))
        .collect();
    let mut html = format!(
        "<!DOCTYPE html><html><head><title>Story {n}</title><script>var config = {{}};</script></head><body>\
         <header><nav><ul>{nav}</ul></nav></header><div class=\"cookie-banner\">We use cookies. <button>Accept</button></div>\
         <main><article><h1>Story {n}</h1>{}</article>\
         <section id=\"comments\">{comments}</section><aside class=\"related\"><ul>{related}</ul></aside></main>",
        story.join("")
    );
    // Pages carry scripts and markup far beyond their text.
    while html.len() < target {
        html.push_str("<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}gtag('js',new Date());</script>\n");
    }
    html.push_str("<footer>Copyright</footer></body></html>");
    (html, last)
}
