//! The arrows between modules point down the pipeline: each module may use only the
//! modules listed for it here (and `model` and `text` are used by everyone below `app`).
//! A new arrow is a design decision: add it here, with the reason, or move the code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each module and the modules it may use (`crate::…`). `app` wires everything and may use
/// anything; `main.rs` is outside the library.
const ALLOWED: &[(&str, &[&str])] = &[
    // Plain data and pure text rules: the bottom of every stack.
    ("model", &[]),
    ("text", &[]),
    // The filter language and feed discovery stand alone.
    ("filter", &[]),
    ("discover", &[]),
    ("arenas", &[]),
    // Background threads yield to serving.
    ("priority", &[]),
    ("config", &["model", "filter"]),
    // The stages.
    ("schedule", &["model"]),
    ("fetch", &["model"]),
    ("parse", &["model"]),
    ("process", &["model", "text"]),
    // A web page's main text.
    ("article", &["text"]),
    // Near-duplicate shapes and verdicts: pure, beside process.
    ("near", &["model"]),
    ("relocate", &["model"]),
    // The store turns filter expressions into SQL and asks `near` whether candidates it
    // found are one story; its writer thread yields to serving.
    ("store", &["model", "text", "filter", "near", "priority"]),
    ("publish", &["model"]),
    ("metrics", &["model"]),
    // The places where stages meet.
    ("retention", &["model", "store"]),
    ("subscriptions", &["model", "config", "publish"]),
    (
        "refresh",
        &[
            "model", "text", "config", "discover", "fetch", "metrics", "near", "parse", "priority",
            "process", "relocate", "schedule", "store",
        ],
    ),
    // Articles of new items, fetched beside the polls with the poller's client and threads.
    (
        "fulltext",
        &[
            "model", "config", "article", "fetch", "near", "process", "refresh", "store",
        ],
    ),
    // The WebSub hub renders documents and reaches subscribers under the feeds' address rules.
    (
        "hub",
        &[
            "model",
            "config",
            "documents",
            "fetch",
            "filter",
            "publish",
            "store",
        ],
    ),
    // Each published document described once, for the server and `feedsift render`.
    (
        "documents",
        &["model", "config", "filter", "publish", "store"],
    ),
    (
        "inspect",
        &[
            "model",
            "config",
            "documents",
            "filter",
            "process",
            "publish",
            "store",
        ],
    ),
    ("report", &["model", "config", "inspect"]),
    (
        "serve",
        &[
            "model",
            "config",
            "documents",
            "filter",
            "hub",
            "metrics",
            "publish",
            "store",
            "subscriptions",
        ],
    ),
];

/// Every `crate::module` a file of each module names, unit tests included.
fn arrows(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(path) = stack.pop() {
        for entry in std::fs::read_dir(&path).expect("read src").flatten() {
            let path = entry.path();
            let relative = path.strip_prefix(src).expect("under src");
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let first = relative.components().next().expect("a component");
            let module = Path::new(first.as_os_str())
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("")
                .to_string();
            if matches!(module.as_str(), "main" | "lib") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read source");
            // Unit tests too: a test that needs a stage above its module tests the wrong thing.
            for (at, _) in text.match_indices("crate::") {
                let name: String = text[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if !name.is_empty() && name != module {
                    found.entry(module.clone()).or_default().insert(name);
                }
            }
        }
    }
    found
}

#[test]
fn every_module_uses_only_the_modules_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(m, uses)| (*m, uses.iter().copied().collect()))
        .collect();
    let mut wrong = Vec::new();
    for (module, uses) in arrows(&src) {
        if module == "app" {
            continue;
        }
        let Some(may) = allowed.get(module.as_str()) else {
            wrong.push(format!("{module} is not in the table"));
            continue;
        };
        for used in uses {
            if !may.contains(used.as_str()) {
                wrong.push(format!("{module} → {used}"));
            }
        }
    }
    assert!(wrong.is_empty(), "arrows not in the design: {wrong:?}");
}
