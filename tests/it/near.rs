//! Near duplicates end to end: generated stories with a known truth (which items are one story)
//! served over loopback as RSS, Atom and JSON Feed, polled, and compared item by item.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use feedsift::app;
use feedsift::model::StoredItem;

use crate::stories::{Corpus, Entry, Kind, corpus, document, singles};
use crate::support::*;

/// Serves every feed of `corpus` (each in its own format) and returns a config polling them.
fn serve_corpus(server: &TestServer, corpus: &Corpus, extra: &str) -> TestConfig {
    let mut feeds = String::new();
    for (n, (name, entries)) in corpus.feeds.iter().enumerate() {
        let path = format!("/{name}");
        server.serve(&path, Route::ok(document(name, entries, n)));
        feeds.push_str(&format!(
            "[[feed]]\nname = \"{name}\"\nurl = \"{}\"\n\n",
            server.url(&path)
        ));
    }
    ConfigBuilder::new()
        .tables(&format!(
            "{extra}{feeds}[[output]]\nname = \"all\"\nlimit = 1000\n"
        ))
        .write()
}

async fn poll(config: &TestConfig) {
    app::poll_once(&config.load(), app::Selection::All, &|_| {})
        .await
        .expect("poll");
}

/// Polls `wire` alone, then every feed: the originals are stored first, the copies join them.
async fn poll_wire_first(config: &TestConfig) {
    app::poll_once(&config.load(), app::Selection::One("wire"), &|_| {})
        .await
        .expect("poll");
    poll(config).await;
}

async fn stored(config: &TestConfig) -> Vec<StoredItem> {
    let store = app::open_store(&config.load()).await.expect("store");
    store
        .call(|s| s.items_matching(None, 1000))
        .await
        .expect("items")
}

/// The story each link truly belongs to.
fn truth(corpus: &Corpus) -> HashMap<String, usize> {
    corpus
        .feeds
        .iter()
        .flat_map(|(_, entries)| entries)
        .map(|e| (e.link.clone(), e.story))
        .collect()
}

/// For each stored item, the true stories of its sources' links.
fn stories_of(items: &[StoredItem], truth: &HashMap<String, usize>) -> Vec<BTreeSet<usize>> {
    items
        .iter()
        .map(|item| {
            item.sources
                .iter()
                .filter_map(|s| s.link.as_deref())
                .map(|link| truth[link])
                .collect()
        })
        .collect()
}

/// Stories split over several items, and items holding several stories, by kind.
fn mistakes(corpus: &Corpus, items: &[StoredItem]) -> (Vec<Kind>, Vec<Kind>) {
    let truth = truth(corpus);
    let merged = stories_of(items, &truth);
    let item_of: BTreeMap<usize, Vec<usize>> =
        merged
            .iter()
            .enumerate()
            .fold(BTreeMap::new(), |mut map, (n, stories)| {
                for story in stories {
                    map.entry(*story).or_insert_with(Vec::new).push(n);
                }
                map
            });
    let mut missed = Vec::new();
    let mut wrong = Vec::new();
    for (kind, original, copy) in &corpus.pairs {
        if kind.same_story() {
            if item_of[original].len() > 1 {
                missed.push(*kind);
            }
        } else if merged
            .iter()
            .any(|stories| stories.contains(original) && stories.contains(copy))
        {
            wrong.push(*kind);
        }
    }
    // No item may hold two stories, whatever the pairs say (the digests included).
    let mixed: Vec<_> = merged.iter().filter(|stories| stories.len() > 1).collect();
    assert!(mixed.is_empty(), "items holding several stories: {mixed:?}");
    (missed, wrong)
}

fn entry_by_kind(corpus: &Corpus, kind: Kind, feed: &str) -> Entry {
    let (_, original, _) = corpus
        .pairs
        .iter()
        .find(|(k, ..)| *k == kind)
        .expect("a pair of that kind");
    let (_, entries) = corpus
        .feeds
        .iter()
        .find(|(name, _)| name == feed)
        .expect("feed");
    entries
        .iter()
        .find(|e| e.story == *original)
        .cloned()
        .expect("entry")
}

#[tokio::test]
async fn every_kind_of_copy_is_merged_and_no_look_alike_is() {
    let mut corpus = corpus(11, 3);
    // Each feed also carries stories nobody else tells, as real feeds mostly do.
    let mut next = 10_000;
    for (name, entries) in &mut corpus.feeds {
        entries.extend(singles(next as u64, name, 6, next));
        next += 6;
    }
    let server = TestServer::start().await;
    let config = serve_corpus(&server, &corpus, "");
    poll(&config).await;
    let items = stored(&config).await;
    let (missed, wrong) = mistakes(&corpus, &items);
    assert!(missed.is_empty(), "copies not merged: {missed:?}");
    assert!(wrong.is_empty(), "look-alikes merged: {wrong:?}");
    // Every copy is a source of its story, and the entry carries the fullest copy's text.
    let truth = truth(&corpus);
    for (kind, original, _) in corpus.pairs.iter().filter(|(k, ..)| k.same_story()) {
        let item = items
            .iter()
            .find(|i| {
                i.sources
                    .iter()
                    .any(|s| s.link.as_deref().map(|l| truth[l]) == Some(*original))
            })
            .expect("the story is stored");
        assert_eq!(item.sources.len(), 2, "{kind:?}: both copies are sources");
        let copies: Vec<&Entry> = corpus
            .feeds
            .iter()
            .flat_map(|(_, e)| e)
            .filter(|e| e.story == *original)
            .collect();
        let fullest = copies
            .iter()
            .max_by_key(|e| e.paragraphs.iter().map(String::len).sum::<usize>())
            .expect("copies");
        let content = item.content.as_deref().unwrap_or("");
        for paragraph in &fullest.paragraphs {
            assert!(
                content.contains(paragraph.as_str()),
                "{kind:?}: the published text is the fullest copy's; missing {paragraph:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_merged_copy_is_explained_and_a_split_stays_split() {
    let corpus = corpus(12, 1);
    let server = TestServer::start().await;
    let config = serve_corpus(&server, &corpus, "");
    poll_wire_first(&config).await;
    let original = entry_by_kind(&corpus, Kind::Retitled, "wire");
    let copy_feed = corpus
        .feeds
        .iter()
        .find(|(name, entries)| name != "wire" && entries.iter().any(|e| e.story == original.story))
        .map(|(name, _)| name.clone())
        .expect("the copy's feed");
    let explained = run_feedsift("explain", &config.path, &[&original.link]).await;
    assert_eq!(explained.code, Some(0), "{}", explained.stderr);
    assert!(
        explained
            .stdout
            .contains("merged as a near copy: same wording"),
        "{}",
        explained.stdout
    );
    assert!(
        explained.stdout.contains("headline: Why "),
        "the copy's own headline: {}",
        explained.stdout
    );
    let before = stored(&config).await.len();

    let split = run_feedsift("split", &config.path, &[&original.link, &copy_feed]).await;
    assert_eq!(split.code, Some(0), "{}", split.stderr);
    let refused = run_feedsift("split", &config.path, &[&original.link, "wire"]).await;
    assert_eq!(refused.code, Some(2), "the original cannot be split off");
    assert!(
        refused.stderr.contains("brought this story first"),
        "{}",
        refused.stderr
    );

    // Polled again (documents re-read in full), the pair stays apart.
    poll(&config).await;
    let items = stored(&config).await;
    assert_eq!(items.len(), before + 1);
    let holding = |link: &str| {
        items
            .iter()
            .filter(|i| i.sources.iter().any(|s| s.link.as_deref() == Some(link)))
            .count()
    };
    let copy_link = format!(
        "https://{copy_feed}.example/news/{}",
        original.link.rsplit('/').next().unwrap_or("")
    );
    assert_eq!(holding(&original.link), 1);
    assert_eq!(holding(&copy_link), 1);
    let together = items.iter().any(|i| {
        let links: Vec<_> = i.sources.iter().filter_map(|s| s.link.as_deref()).collect();
        links.contains(&original.link.as_str()) && links.contains(&copy_link.as_str())
    });
    assert!(!together, "split copies were merged again");
    let copy_item = items
        .iter()
        .find(|i| {
            i.sources
                .iter()
                .any(|s| s.link.as_deref() == Some(&copy_link))
        })
        .expect("the split copy");
    assert!(
        copy_item.title.starts_with("Why "),
        "the split item has its own headline"
    );
}

#[tokio::test]
async fn near_merging_can_be_turned_off_for_all_or_one_feed() {
    let corpus = corpus(13, 1);
    let server = TestServer::start().await;
    let off = serve_corpus(&server, &corpus, "[dedup]\nnear = false\n\n");
    poll(&off).await;
    let (missed, wrong) = mistakes(&corpus, &stored(&off).await);
    assert!(wrong.is_empty());
    assert_eq!(
        missed.len(),
        Kind::POSITIVE.len(),
        "nothing near-merged: {missed:?}"
    );

    let server = TestServer::start().await;
    let one = serve_corpus(&server, &corpus, "");
    let text = std::fs::read_to_string(&one.path).expect("config").replace(
        "[[feed]]\nname = \"alpha\"\n",
        "[[feed]]\nname = \"alpha\"\nnear = false\n",
    );
    std::fs::write(&one.path, text).expect("config");
    poll(&one).await;
    let items = stored(&one).await;
    for item in &items {
        let feeds: Vec<_> = item.sources.iter().map(|s| s.feed_name.as_str()).collect();
        assert!(
            !(feeds.contains(&"alpha") && feeds.len() > 1),
            "alpha's items are never near-merged: {feeds:?}"
        );
    }
    assert!(
        items.iter().any(|i| i.sources.len() > 1),
        "other feeds' copies still merge"
    );
}

#[tokio::test]
async fn chromium_shows_a_story_timeline_linked_from_its_entry() {
    let corpus = corpus(14, 1);
    let server = TestServer::start().await;
    let config = serve_corpus(&server, &corpus, "");
    poll_wire_first(&config).await;
    let original = entry_by_kind(&corpus, Kind::Retitled, "wire");
    let items = stored(&config).await;
    let item = items
        .iter()
        .find(|i| {
            i.sources
                .iter()
                .any(|s| s.link.as_deref() == Some(original.link.as_str()))
        })
        .expect("the story");
    assert_eq!(item.sources.len(), 2);
    let (base, _stop) = serve_outputs(&config.load()).await;
    let uuid = item.entry_id.trim_start_matches("urn:uuid:");
    let atom = get_text(&format!("{base}/feeds/all.atom")).await;
    assert!(
        atom.contains(&format!("/stories/{uuid}")),
        "the entry links its timeline"
    );
    let page = get_text(&format!("{base}/feeds/all")).await;
    assert!(
        page.contains(&format!("/stories/{uuid}")),
        "the page links it too"
    );

    let profile = tempfile::tempdir().expect("profile");
    let out = chromium(profile.path())
        .args(["--virtual-time-budget=2000", "--dump-dom"])
        .arg(format!("{base}/stories/{uuid}"))
        .output()
        .await
        .expect("chromium is installed (apt-get install chromium)");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(dom.contains("2 sites carried this story"), "{dom}");
    let wire_at = dom.find(">wire<").expect("the first site is listed");
    let copy_at = dom.find("Why ").expect("the copy's headline is listed");
    assert!(wire_at < copy_at, "the first site comes first\n{dom}");
    assert!(dom.contains("first"), "{dom}");
    assert!(
        dom.contains("30 min later"),
        "when the copy appeared\n{dom}"
    );
    assert!(dom.contains("near copy: same wording"), "{dom}");
    let missing = get_text(&format!(
        "{base}/stories/00000000-0000-0000-0000-000000000000"
    ))
    .await;
    assert!(missing.contains("not found"));
}
