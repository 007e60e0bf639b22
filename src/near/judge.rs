//! Whether two shapes tell one story, and why.

use std::collections::{BTreeMap, BTreeSet};

use super::MIN_SHINGLES;
use crate::model::NearShape;

/// Shared shingles (Jaccard) that make two texts one story.
const SAME_WORDING: f64 = 0.45;
/// Short texts need more overlap: a shared sentence is a larger part of them.
const SAME_WORDING_SHORT: f64 = 0.6;
const SHORT_SHINGLES: u32 = 60;
/// Less overlap will do when the titles agree too.
const SAME_WORDING_WITH_TITLE: f64 = 0.3;
const TITLE_AGREES: f64 = 0.5;
/// Share of the shorter text found in the longer one that makes it a summary of it …
const CONTAINED: f64 = 0.8;
/// … when it is at most this share of the longer one's length …
const SHORTER_AT_MOST: f64 = 0.7;
/// … and the estimate rests on this many sampled shingles at least.
const CONTAINMENT_SAMPLE: usize = 12;

/// Which rule found two texts to be one story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Most of their wording is shared.
    Wording,
    /// Much of their wording, and their titles, are shared.
    WordingAndTitle,
    /// The shorter is contained in the longer: a summary or a trimmed copy.
    Contained,
}

impl Rule {
    /// The rule's name as stored and as `explain` shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Wording => "same wording",
            Rule::WordingAndTitle => "same wording and title",
            Rule::Contained => "shorter copy contained in longer",
        }
    }
}

/// Why two texts are one story: the rule, and the similarity it measured (0–1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    pub rule: Rule,
    pub similarity: f64,
}

/// Whether `a` and `b` tell one story. Never when either is too short or their figures
/// disagree.
pub fn judge(a: &NearShape, b: &NearShape) -> Option<Verdict> {
    let enough = |s: &NearShape| s.size as usize >= MIN_SHINGLES;
    if !enough(a) || !enough(b) {
        return None;
    }
    // Figures are compared last: most candidates fail on their wording, which is cheaper.
    alike(a, b).filter(|_| !figures_disagree(&a.figures, &b.figures))
}

/// The rule by which the wordings of `a` and `b` are one story's, if any.
fn alike(a: &NearShape, b: &NearShape) -> Option<Verdict> {
    let jaccard = jaccard(&a.sketch, &b.sketch);
    let needed = if a.size.min(b.size) < SHORT_SHINGLES {
        SAME_WORDING_SHORT
    } else {
        SAME_WORDING
    };
    if jaccard >= needed {
        return Some(Verdict {
            rule: Rule::Wording,
            similarity: jaccard,
        });
    }
    if jaccard >= SAME_WORDING_WITH_TITLE && overlap(&a.title, &b.title) >= TITLE_AGREES {
        return Some(Verdict {
            rule: Rule::WordingAndTitle,
            similarity: jaccard,
        });
    }
    let (short, long) = if a.size <= b.size { (a, b) } else { (b, a) };
    if f64::from(short.size) > f64::from(long.size) * SHORTER_AT_MOST {
        return None;
    }
    let contained = containment(short, long)?;
    (contained >= CONTAINED).then_some(Verdict {
        rule: Rule::Contained,
        similarity: contained,
    })
}

/// Figures stated after the same word, none of them the same number: "raises 10b" against
/// "raises 13b".
fn figures_disagree(a: &[String], b: &[String]) -> bool {
    let by_context = |figures: &[String]| {
        let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for figure in figures {
            // The number alone: a unit lost to a scraping artefact ("$19 billionxyz") is
            // no disagreement.
            if let Some((context, value)) = figure.split_once(' ') {
                let number = value.trim_end_matches(|c: char| !c.is_ascii_digit());
                map.entry(context.to_string())
                    .or_default()
                    .insert(number.to_string());
            }
        }
        map
    };
    let (a, b) = (by_context(a), by_context(b));
    a.iter().any(|(context, values)| {
        b.get(context)
            .is_some_and(|other| values.is_disjoint(other))
    })
}

/// Estimated Jaccard similarity of two shingle sets from their bottom-k sketches: of the k
/// smallest hashes of the union, the share found in both.
fn jaccard(a: &[u32], b: &[u32]) -> f64 {
    let k = a.len().max(b.len());
    let (mut i, mut j, mut taken, mut both) = (0, 0, 0usize, 0usize);
    while taken < k && (i < a.len() || j < b.len()) {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                both += 1;
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => i += 1,
            (Some(_), None) => i += 1,
            _ => j += 1,
        }
        taken += 1;
    }
    if taken == 0 {
        0.0
    } else {
        both as f64 / taken as f64
    }
}

/// Estimated share of `short`'s shingles found in `long`, from their sketches; `None` when
/// too few of `short`'s shingles fall where both sketches are complete.
fn containment(short: &NearShape, long: &NearShape) -> Option<f64> {
    // Below each sketch's largest hash, a sketch holds every shingle of its text.
    let complete = |s: &NearShape| {
        if s.sketch.len() < s.size as usize {
            s.sketch.last().copied().unwrap_or(0)
        } else {
            u32::MAX
        }
    };
    let bound = complete(short).min(complete(long));
    let sample: Vec<u32> = short
        .sketch
        .iter()
        .copied()
        .filter(|h| *h <= bound)
        .collect();
    if sample.len() < CONTAINMENT_SAMPLE {
        return None;
    }
    let found = sample
        .iter()
        .filter(|h| long.sketch.binary_search(h).is_ok())
        .count();
    Some(found as f64 / sample.len() as f64)
}

/// Share of the smaller word set found in the larger.
fn overlap(a: &[u32], b: &[u32]) -> f64 {
    let smaller = a.len().min(b.len());
    if smaller == 0 {
        return 0.0;
    }
    let shared = a.iter().filter(|h| b.binary_search(h).is_ok()).count();
    shared as f64 / smaller as f64
}
