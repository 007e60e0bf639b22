#![allow(
    dead_code,
    reason = "each benchmark uses a different part of this module"
)]

//! Shared by the benchmarks: deterministic pseudo-random data and small measurements.

use chrono::{DateTime, Utc};

/// xorshift64*: deterministic, dependency-free, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A number in `0..n`, skewed so small numbers are much more common (like real tags).
    pub fn skewed(&mut self, n: usize) -> usize {
        let x = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((x * x * x) * n as f64) as usize
    }
}

/// A made-up word for index `i`.
pub fn word(i: usize) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "de", "po", "an", "el", "or", "un", "is",
        "ba",
    ];
    let mut w = String::new();
    let mut n = i + 16;
    while n > 0 {
        w.push_str(SYLLABLES[n % 16]);
        n /= 16;
    }
    w
}

/// Feeds `feed0` … `feed{count-1}` at `url(n)`, registered in `store`.
pub fn register_feeds(
    store: &feedsift::store::Store,
    count: usize,
    url: impl Fn(usize) -> String,
) -> Vec<feedsift::store::FeedSpec> {
    let specs: Vec<_> = (0..count)
        .map(|n| feedsift::store::FeedSpec {
            name: format!("feed{n}"),
            url: url(n),
            tags: Vec::new(),
        })
        .collect();
    store.sync_feeds(&specs).expect("sync feeds");
    specs
}

/// A poll that fetched a document and learned nothing about the feed itself.
pub fn fetched() -> feedsift::model::PollOutcome {
    feedsift::model::PollOutcome::Fetched {
        etag: None,
        last_modified: None,
        title: None,
        site_link: None,
        guid_fallback: false,
        repairs: None,
    }
}

/// What one `feedsift poll --all` of the real binary under GNU time printed.
pub struct TimedPoll {
    /// feedsift's summary line.
    pub summary: String,
    /// GNU time's line: wall, user and system time, peak RSS.
    pub timing: String,
    pub peak_rss_mib: f64,
}

/// Runs `feedsift poll --all -c CONFIG` under `/usr/bin/time`.
pub async fn timed_poll(config: &std::path::Path) -> TimedPoll {
    let out = tokio::process::Command::new("/usr/bin/time")
        .args(["-f", "%e s wall, %U s user, %S s system, %M KiB peak RSS"])
        .arg(env!("CARGO_BIN_EXE_feedsift"))
        .args(["poll", "--all", "-c"])
        .arg(config)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run feedsift under /usr/bin/time");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let timing = stderr.lines().last().unwrap_or("").to_string();
    let peak_kib = timing
        .split(", ")
        .nth(3)
        .and_then(|s| s.split(' ').next())
        .and_then(|k| k.parse::<f64>().ok())
        .unwrap_or(0.0);
    TimedPoll {
        summary: String::from_utf8_lossy(&out.stdout).trim().to_string(),
        timing,
        peak_rss_mib: peak_kib / 1024.0,
    }
}

/// This process's peak resident set size, from /proc (Linux).
pub fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Items in each generated document.
pub const ITEMS_PER_DOC: usize = 50;

/// An RSS 2.0 document of 50 items with HTML descriptions, like a news site's feed.
pub fn rss_document(d: usize, rng: &mut Rng) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Feed {d}</title>\
         <link>https://site{d}.example/</link><description>Bench feed</description>\n"
    );
    let base: DateTime<Utc> = DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default();
    for i in 0..ITEMS_PER_DOC {
        let words: Vec<String> = (0..120).map(|_| word(rng.skewed(5000))).collect();
        let paragraphs: Vec<String> = words
            .chunks(30)
            .map(|c| format!("<p>{}</p>", c.join(" ")))
            .collect();
        let tags: Vec<String> = (0..3)
            .map(|_| format!("#{}", word(rng.skewed(10_000))))
            .collect();
        let date = base + chrono::Duration::seconds(rng.below(30 * 86400) as i64);
        xml.push_str(&format!(
            "<item><title>Story {d}-{i} on {}</title><link>https://site{d}.example/{i}?utm_source=rss</link>\
             <guid isPermaLink=\"false\">site{d}-{i}</guid><pubDate>{}</pubDate><category>{}</category>\
             <description><![CDATA[{}<p>{}</p>]]></description></item>\n",
            word(rng.below(2000)),
            date.to_rfc2822(),
            word(rng.skewed(300)),
            paragraphs.join(""),
            tags.join(" ")
        ));
    }
    xml.push_str("</channel></rss>\n");
    xml
}

/// CPU time this process has used, user and system, in seconds (Linux: /proc, in clock
/// ticks of 10 ms).
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime and stime are 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |n: usize| {
        fields
            .get(n)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}
