//! Golden files: each fixture under `tests/fixtures/golden/` is parsed and processed, and
//! every item's normalised fields are compared with the reviewed `.golden` file beside it.
//! After a deliberate change, `FEEDSIFT_BLESS=1 cargo test golden` rewrites the files; review
//! the diff by hand before committing it.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use feedsift::parse::{Source, parse_feed};
use feedsift::process::process_feed;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("golden fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e != "golden"))
        .collect();
    paths.sort();
    paths
}

/// The document's items as reviewed text: one block per item.
fn describe(doc: &[u8], url: &str) -> String {
    let parsed = match parse_feed(doc, &Source::at(Some(url))) {
        Ok(parsed) => parsed,
        Err(e) => return format!("error: {e}\n"),
    };
    let base = url::Url::parse(url).ok();
    let processed = process_feed(&parsed, base.as_ref());
    let mut out = format!(
        "repairs: {:?}\nidentity: {:?}\n",
        parsed.repairs, processed.identity
    );
    for item in processed.items {
        let digest = blake3::hash(item.text.as_bytes()).to_hex();
        let tags: Vec<String> = item
            .tags
            .iter()
            .map(|t| format!("{}:{}", t.origin.as_str(), t.label))
            .collect();
        let _ = write!(
            out,
            "\nkey: {}\ntitle: {}\nlink: {}\ntext: {} [{}]\npublished: {}\nupdated: {}\nauthor: {}\ntags: {}\nhash: {}\n",
            item.key.0,
            item.title,
            item.link.as_deref().unwrap_or("-"),
            item.text.chars().take(80).collect::<String>(),
            &digest[..16],
            item.published.map_or("-".into(), |d| d.to_rfc3339()),
            item.updated.map_or("-".into(), |d| d.to_rfc3339()),
            item.author.as_deref().unwrap_or("-"),
            tags.join(", "),
            &item.hash.to_hex()[..18],
        );
    }
    out
}

#[test]
fn fixture_items_match_their_reviewed_golden_files() {
    let bless = std::env::var_os("FEEDSIFT_BLESS").is_some();
    let mut differ = Vec::new();
    for path in fixtures() {
        let doc = std::fs::read(&path).expect("fixture");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("feed");
        let actual = describe(&doc, &format!("https://golden.example/{name}"));
        let golden = path.with_extension("golden");
        if bless {
            std::fs::write(&golden, &actual).expect("write golden");
            continue;
        }
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        if expected != actual {
            differ.push(format!("{}:\n{actual}", golden.display()));
        }
    }
    assert!(
        differ.is_empty(),
        "differs from its golden file:\n{}",
        differ.join("\n")
    );
}
