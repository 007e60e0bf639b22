use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("/etc/feedsift/test.toml"), text)
}

/// The (line, key) of an invalid config, or a panic naming what came back instead.
fn error_at(text: &str) -> (usize, String, String) {
    match parse(text) {
        Err(ConfigError::Invalid {
            line, key, message, ..
        }) => (line, key, message),
        other => panic!("expected an invalid config, got {other:?}"),
    }
}

#[test]
fn the_example_config_loads_with_every_key() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config/example.toml");
    let config = Config::load(&path).expect("the example config is valid");
    assert_eq!(config.feeds.len(), 4);
    assert_eq!(config.feeds[0].name.as_str(), "venturebeat");
    assert_eq!(
        config.feeds[0].interval,
        Interval::Fixed(Duration::from_secs(15 * 60))
    );
    assert_eq!(config.feeds[2].interval, Interval::Auto);
    assert_eq!(config.feeds[3].name.as_str(), "theverge.com");
    assert_eq!(config.fetch.max_body, 10 * 1024 * 1024);
    assert_eq!(
        config.storage.path,
        path.parent()
            .map(|p| p.join("feedsift.db"))
            .unwrap_or_default()
    );
    assert_eq!(config.outputs[0].filter, Some(Expr::Tag("OpenAI".into())));
    assert_eq!(config.outputs[2].filter, None);
}

#[test]
fn an_empty_config_gets_every_default() {
    let config = parse("").expect("an empty config is valid");
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.server.base_url.as_str(), "http://localhost:8080/");
    assert_eq!(
        config.fetch.interval,
        Interval::Fixed(Duration::from_secs(1800))
    );
    assert_eq!(config.fetch.timeout, Duration::from_secs(20));
    assert_eq!(config.fetch.max_backoff, Duration::from_secs(7 * 86400));
    assert_eq!(config.server.cache_max_age, Duration::from_secs(300));
    assert_eq!(config.storage.max_items_per_feed, 2000);
    assert!(config.fetch.user_agent.starts_with("feedsift/"));
    assert_eq!(
        config.storage.path,
        PathBuf::from("/etc/feedsift/feedsift.db")
    );
}

#[test]
fn unknown_keys_are_errors_with_line_and_key() {
    let (line, key, _) = error_at("[fetch]\ninterval = \"5m\"\nintervall = \"6m\"\n");
    assert_eq!((line, key.as_str()), (3, "fetch.intervall"));
    let (line, key, _) = error_at("[[feed]]\nurl = \"https://a.example/\"\ncolour = 1\n");
    assert_eq!((line, key.as_str()), (3, "feed.colour"));
}

#[test]
fn bad_urls_are_errors_with_line_and_key() {
    let (line, key, message) = error_at("\n[[feed]]\nurl = \"not a url\"\n");
    assert_eq!((line, key.as_str()), (3, "feed.url"));
    assert!(message.contains("not a url"), "{message}");
    let (_, key, _) = error_at("[[feed]]\nurl = \"ftp://a.example/feed\"\n");
    assert_eq!(key, "feed.url");
    let (_, key, _) = error_at("[server]\nbase_url = \"localhost\"\n");
    assert_eq!(key, "server.base_url");
}

#[test]
fn bad_durations_and_sizes_are_errors_with_line_and_key() {
    let (line, key, message) = error_at("[fetch]\n\ninterval = \"often\"\n");
    assert_eq!((line, key.as_str()), (3, "fetch.interval"));
    assert!(message.contains("often"), "{message}");
    let (line, key, _) = error_at("[[feed]]\nurl = \"https://a.example/\"\ninterval = \"0s\"\n");
    assert_eq!((line, key.as_str()), (3, "feed.interval"));
    let (_, key, _) = error_at("[fetch]\nmax_body = \"huge\"\n");
    assert_eq!(key, "fetch.max_body");
    let (_, key, _) = error_at("[fetch]\nmin_interval = \"2d\"\nmax_interval = \"1d\"\n");
    assert_eq!(key, "fetch.min_interval");
}

#[test]
fn duplicate_names_are_errors_with_line_and_key() {
    let text = "[[feed]]\nurl = \"https://a.example/1\"\nname = \"a\"\n[[feed]]\nurl = \"https://b.example/\"\nname = \"a\"\n";
    let (line, key, _) = error_at(text);
    assert_eq!((line, key.as_str()), (6, "feed.name"));
    let outputs = "[[output]]\nname = \"x\"\n[[output]]\nname = \"x\"\n";
    assert_eq!(error_at(outputs).1, "output.name");
}

#[test]
fn bad_filters_are_errors_with_line_and_key() {
    let (line, key, message) = error_at("[[output]]\nname = \"x\"\nfilter = \"#a and\"\n");
    assert_eq!((line, key.as_str()), (3, "output.filter"));
    assert!(message.contains("#a and"), "{message}");
}

#[test]
fn wrong_value_types_name_the_key() {
    let (line, key, _) = error_at("[fetch]\nconcurrency = \"many\"\n");
    assert_eq!((line, key.as_str()), (2, "fetch.concurrency"));
    let (_, key, _) = error_at("[fetch]\nconcurrency = 0\n");
    assert_eq!(key, "fetch.concurrency");
}

#[test]
fn syntax_errors_name_the_line() {
    let (line, _, _) = error_at("[server]\nlisten = \"127.0.0.1:80\"\nbase_url = \n");
    assert_eq!(line, 3);
}

#[test]
fn errors_print_file_line_and_key() {
    let err = parse("[fetch]\ntimeout = \"x\"\n").expect_err("invalid");
    assert!(
        err.to_string()
            .starts_with("/etc/feedsift/test.toml:2: fetch.timeout: "),
        "{err}"
    );
}

#[test]
fn a_zero_per_host_delay_means_no_gap_but_other_zero_durations_are_errors() {
    let config = parse("[fetch]\nper_host_delay = \"0s\"\n").expect("zero delay");
    assert_eq!(config.fetch.per_host_delay, Duration::ZERO);
    let (line, key, message) = error_at("[fetch]\ntimeout = \"0s\"\n");
    assert_eq!((line, key.as_str()), (2, "fetch.timeout"));
    assert!(message.contains("longer than zero"), "{message}");
}

#[test]
fn listen_takes_host_names_as_well_as_addresses() {
    let config = parse("[server]\nlisten = \"localhost:8081\"\n").expect("host name");
    assert!(config.server.listen.ip().is_loopback());
    assert_eq!(config.server.listen.port(), 8081);
    let (line, key, _) = error_at("[server]\nlisten = \"localhost\"\n");
    assert_eq!((line, key.as_str()), (2, "server.listen"));
}

#[test]
fn errors_speak_the_users_words_with_the_full_key() {
    let (line, key, message) = error_at("[feed]\nurl = \"https://a.example/\"\n");
    assert_eq!((line, key.as_str()), (1, "feed"));
    assert!(message.contains("[[feed]]"), "{message}");

    let (line, key, message) = error_at("[fetch]\ninterval = 5\n");
    assert_eq!((line, key.as_str()), (2, "fetch.interval"));
    assert!(message.contains("expected text in quotes"), "{message}");

    let (_, key, message) = error_at("[fetch]\nconcurrency = \"many\"\n");
    assert_eq!(key, "fetch.concurrency");
    assert!(message.contains("a whole number"), "{message}");
    assert!(
        !message.contains("i64") && !message.contains("u32"),
        "{message}"
    );
}

#[test]
fn every_wrong_section_feed_and_output_is_reported_at_once() {
    let text = "[storage]\nretention = \"forever\"\n\n[server]\nlisten = \"nowhere\"\n\n\
                [[feed]]\nurl = \"htp:/bad\"\n\n[[feed]]\nurl = \"https://ok.example/\"\n\n\
                [[output]]\nname = \"o\"\nfilter = \"#a or\"\n";
    let Err(ConfigError::Several(errors)) = parse(text) else {
        panic!("expected several errors, got {:?}", parse(text));
    };
    let keys: Vec<String> = errors
        .iter()
        .filter_map(|e| match e {
            ConfigError::Invalid { key, .. } => Some(key.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        keys,
        [
            "server.listen",
            "storage.retention",
            "feed.url",
            "output.filter"
        ]
    );
}

#[test]
fn feeds_of_one_host_without_names_get_unique_names() {
    let config = parse(
        "[[feed]]\nurl = \"https://www.example.com/blog/feed.xml\"\n\
         [[feed]]\nurl = \"https://example.com/news/rss\"\n\
         [[feed]]\nurl = \"https://example.com/news/rss?page=2\"\n\
         [[feed]]\nurl = \"https://other.example/\"\nname = \"example.com\"\n",
    )
    .expect("valid");
    let names: Vec<&str> = config.feeds.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "example.com-blog-feed",
            "example.com-news",
            "example.com-news-2",
            "example.com"
        ]
    );
}

#[test]
fn configs_that_do_nothing_useful_are_warned_about() {
    let empty = parse("").expect("valid");
    assert_eq!(
        empty.warnings(),
        ["no [[feed]] is configured: nothing will be polled"]
    );
    let typo = parse(
        "[[feed]]\nurl = \"https://a.example/\"\nname = \"a\"\n\
         [[output]]\nname = \"o\"\nfilter = \"feed:a or feed:nosuchfeed\"\n",
    )
    .expect("valid");
    assert_eq!(
        typo.warnings(),
        ["output `o`: its filter names `feed:nosuchfeed`, but no feed has that name"]
    );
}
