use super::*;

/// `n` sentences of words drawn from a small vocabulary, different for every `seed`: stories on
/// one topic share words, not sentences.
fn prose(seed: u64, sentences: usize) -> String {
    const WORDS: [&str; 40] = [
        "model", "company", "release", "users", "data", "new", "said", "will", "market", "report",
        "system", "chips", "cloud", "team", "launch", "price", "service", "research", "open",
        "people", "week", "plans", "growth", "policy", "version", "support", "feature", "deal",
        "partner", "access", "test", "public", "safety", "training", "compute", "cost", "city",
        "energy", "project", "network",
    ];
    let mut state = mix(seed);
    (0..sentences)
        .map(|_| {
            let words: Vec<&str> = (0..12)
                .map(|_| {
                    state = mix(state);
                    WORDS[(state % WORDS.len() as u64) as usize]
                })
                .collect();
            format!("{}.", words.join(" "))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Shapes of texts, each alone in its document (nothing discounted).
fn shape_of(title: &str, text: &str) -> Option<NearShape> {
    let mut items = [Item::plain(title, text)];
    shape_items(&mut items, |_| true);
    items[0].shape.clone()
}

fn verdict(a: (&str, &str), b: (&str, &str)) -> Option<Verdict> {
    judge(&shape_of(a.0, a.1)?, &shape_of(b.0, b.1)?)
}

#[test]
fn the_same_text_is_one_story_by_wording() {
    let text = prose(1, 8);
    let v = verdict(("A", &text), ("B", &text)).expect("merged");
    assert_eq!(v.rule, Rule::Wording);
    assert!((v.similarity - 1.0).abs() < 1e-9);
}

#[test]
fn copies_with_paragraphs_dropped_or_added_are_one_story() {
    let full = prose(2, 10);
    let trimmed: String = full.split(". ").take(7).collect::<Vec<_>>().join(". ");
    assert!(verdict(("Headline", &full), ("Another headline", &trimmed)).is_some());
    let extended = format!("{full} {}", prose(3, 3));
    assert!(verdict(("Headline", &full), ("Headline", &extended)).is_some());
}

#[test]
fn a_summary_is_contained_in_its_article() {
    let article = prose(4, 30);
    let summary: String = article.split(". ").take(4).collect::<Vec<_>>().join(". ");
    let v = verdict(("Story", &summary), ("Story, in full", &article)).expect("merged");
    assert_eq!(v.rule, Rule::Contained);
}

#[test]
fn stories_on_one_topic_stay_apart() {
    for seed in 10..40 {
        assert_eq!(
            verdict(
                ("Chips news", &prose(seed, 8)),
                ("Chips news", &prose(seed + 100, 8))
            ),
            None,
            "seed {seed}"
        );
    }
}

#[test]
fn disagreeing_figures_keep_copies_apart() {
    let text = prose(5, 8);
    let a = format!("The startup raises $10B in new funding. {text}");
    let b = format!("The startup raises $13 billion in new funding. {text}");
    assert_eq!(verdict(("Raise", &a), ("Raise", &b)), None);
    let c = format!("The startup raises $10 billion in new funding. {text}");
    assert!(verdict(("Raise", &a), ("Raise", &c)).is_some());
    // A unit lost to a scraping artefact is not another figure.
    let d = format!("The startup raises $10 billionin new funding. {text}");
    assert!(verdict(("Raise", &a), ("Raise", &d)).is_some());
}

#[test]
fn short_texts_have_no_shape() {
    assert_eq!(shape_of("Open thread", "Talk about anything here."), None);
}

#[test]
fn boilerplate_a_feed_repeats_is_not_evidence() {
    let footer = prose(6, 6);
    let mut feed: Vec<Item> = (0..5)
        .map(|n| {
            Item::plain(
                &format!("Post {n}"),
                &format!("{} {footer}", prose(20 + n, 3)),
            )
        })
        .collect();
    let other = Item::plain("Elsewhere", &format!("{} {footer}", prose(40, 3)));
    // Alone, the footer makes the other site's post look like ours …
    let alone = shape_of("Post 0", &feed[0].text).expect("shape");
    assert!(judge(&alone, other_shape(&other).as_ref().expect("shape")).is_some());
    // … but in its feed's document the footer is discounted.
    shape_items(&mut feed, |i| i.title == "Post 0");
    let shape = feed[0]
        .shape
        .as_ref()
        .expect("its own text is long enough to compare");
    assert_eq!(
        judge(shape, other_shape(&other).as_ref().expect("shape")),
        None
    );
}

fn other_shape(item: &Item) -> Option<NearShape> {
    shape_of(&item.title, &item.text)
}

#[test]
fn band_keys_never_change() {
    // Stored band keys must match the ones computed after an upgrade (the high half of what
    // schema 12 to 14 stored).
    let shape = shape_of("T", &prose(7, 4)).expect("shape");
    assert_eq!(shape.bands.len(), TEXT_BANDS + LEAD_BANDS);
    assert_eq!(fnv("feedsift".bytes()), 14_077_678_536_682_685_971);
    assert_eq!(shape.bands[0], 3_668_481_274);
}

#[test]
fn items_of_a_document_are_shaped_as_each_alone_when_it_repeats_nothing() {
    // Long texts (more shingles than a sketch holds), one of them saying everything twice.
    let texts = [prose(50, 40), format!("{0} {0}", prose(51, 30))];
    let mut items: Vec<Item> = texts
        .iter()
        .enumerate()
        .map(|(n, text)| Item::plain(&format!("Post {n}"), text))
        .collect();
    shape_items(&mut items, |_| true);
    for (item, text) in items.iter().zip(&texts) {
        let alone = shape_text(&item.title, text).expect("long enough");
        assert!(alone.sketch.len() == SKETCH && alone.size as usize > SKETCH);
        assert_eq!(item.shape.as_ref(), Some(&alone));
    }
}

#[test]
fn a_sketch_holds_the_least_distinct_values_in_order() {
    let values: Vec<u32> = (0..1000u32).map(|n| (n * 7919) % 613).collect();
    let mut expected = values.clone();
    expected.sort_unstable();
    expected.dedup();
    expected.truncate(SKETCH);
    assert_eq!(least(values), expected);
    let distinct: Vec<u32> = (0..1000u32)
        .rev()
        .map(|n| n.wrapping_mul(2_654_435_761))
        .collect();
    let mut expected = distinct.clone();
    expected.sort_unstable();
    expected.truncate(SKETCH);
    assert_eq!(least(distinct), expected);
}

#[test]
fn spread_sorting_sorts_as_a_general_sort_whatever_the_values() {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = || {
        state = mix(state);
        state
    };
    for len in [0, 1, 2, 3, 17, 255, SKETCH, SKETCH + 1, 1000] {
        for spread in [u32::MAX, 1 << 20, 255, 1, 0] {
            let mut values: Vec<u32> = (0..len)
                .map(|_| (next() as u32) % spread.saturating_add(1))
                .collect();
            // Bunched at either end, or one far from the rest.
            if len > 2 {
                values[0] = u32::MAX;
                values[1] = 0;
            }
            let mut expected = values.clone();
            expected.sort_unstable();
            sort_spread(&mut values);
            assert_eq!(values, expected, "{len} values below {spread}");
        }
    }
}
