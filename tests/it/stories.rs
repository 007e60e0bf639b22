//! A generator of news stories and their copies with a known truth: which items are one story.
//! Shared by the near-duplicate tests and `benches/near.rs` (included there by path), so it
//! depends on nothing but std.
//!
//! Positive kinds are copies another site made of a story; negative kinds look alike but are
//! other stories. Texts are built from a Zipf-like vocabulary with real function words, so
//! unrelated texts share common phrases as real ones do.

/// How a copy was made from its story, or what kind of look-alike it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Same text under a new headline.
    Retitled,
    /// Two paragraphs left out.
    Trimmed,
    /// Two paragraphs of its own added.
    Extended,
    /// The site's footer appended ("This article first appeared on …").
    Boilerplate,
    /// The first paragraph only: a summary feed against the full article.
    Summary,
    /// A sentence edited, another site's link, its own guid.
    OtherSite,
    /// Scraping artefacts: doubled words run together ("did notdid not"), stray words.
    Artefacts,
    /// Negative: another story on the same topic, its own facts.
    SameTopic,
    /// Negative: a follow-up repeating the background, with new figures.
    FollowUp,
    /// Negative: the same text published five days earlier, outside the near window.
    Late,
    /// Negative: a very short item with the same title ("Open thread").
    Short,
    /// Negative: the story again, retitled, in the same feed (never near-merged).
    SameFeed,
}

impl Kind {
    pub const POSITIVE: [Kind; 7] = [
        Kind::Retitled,
        Kind::Trimmed,
        Kind::Extended,
        Kind::Boilerplate,
        Kind::Summary,
        Kind::OtherSite,
        Kind::Artefacts,
    ];
    pub const NEGATIVE: [Kind; 5] = [
        Kind::SameTopic,
        Kind::FollowUp,
        Kind::Late,
        Kind::Short,
        Kind::SameFeed,
    ];

    /// Whether a copy of this kind is the same story as its original.
    pub fn same_story(self) -> bool {
        Kind::POSITIVE.contains(&self)
    }
}

/// One item of a generated feed, with the story it truly belongs to.
#[derive(Debug, Clone)]
pub struct Entry {
    pub guid: String,
    pub title: String,
    pub link: String,
    /// Paragraphs of plain text.
    pub paragraphs: Vec<String>,
    /// Seconds after the corpus's start.
    pub published: i64,
    /// Items with the same `story` are one story.
    pub story: usize,
}

/// Deterministic random numbers (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Small indices far more often than large ones, as word frequencies go.
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((n as f64).powf(u) as usize).saturating_sub(1).min(n - 1)
    }
}

const FUNCTION_WORDS: [&str; 30] = [
    "the", "of", "and", "to", "a", "in", "that", "is", "for", "it", "on", "with", "as", "was",
    "at", "by", "this", "be", "from", "or", "have", "an", "are", "but", "not", "they", "which",
    "its", "has", "said",
];
const SYLLABLES: [&str; 24] = [
    "ka", "lo", "mi", "ren", "tor", "vel", "sa", "dan", "pre", "ex", "ion", "bar", "ti", "nus",
    "cor", "al", "pa", "ter", "min", "go", "ra", "el", "sun", "dri",
];

/// The words texts are made of: function words, then a long tail of content words.
pub struct Vocabulary(Vec<String>);

impl Vocabulary {
    pub fn new() -> Vocabulary {
        let mut words = Vec::new();
        for a in SYLLABLES {
            for b in SYLLABLES {
                words.push(format!("{a}{b}"));
                words.push(format!("{a}{b}{}", SYLLABLES[(a.len() * 7 + b.len()) % 24]));
            }
        }
        Vocabulary(words)
    }

    /// A sentence of 10–18 words: function words, the topic's words and the long tail.
    fn sentence(&self, rng: &mut Rng, topic: &[String]) -> String {
        let length = 10 + rng.below(9);
        let words: Vec<&str> = (0..length)
            .map(|_| match rng.below(10) {
                0..=2 => FUNCTION_WORDS[rng.zipf(FUNCTION_WORDS.len())],
                3..=4 => topic[rng.below(topic.len())].as_str(),
                _ => self.0[rng.zipf(self.0.len())].as_str(),
            })
            .collect();
        let mut sentence = words.join(" ");
        if let Some(first) = sentence.get(..1) {
            sentence.replace_range(..1, &first.to_uppercase());
        }
        sentence + "."
    }

    fn paragraph(&self, rng: &mut Rng, topic: &[String]) -> String {
        (0..3)
            .map(|_| self.sentence(rng, topic))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn topic(&self, rng: &mut Rng) -> Vec<String> {
        (0..12)
            .map(|_| self.0[rng.below(self.0.len())].clone())
            .collect()
    }
}

/// A story as its first site tells it.
struct Story {
    topic: Vec<String>,
    company: String,
    headline: String,
    /// The figure its lead states ("raises $N billion").
    billions: u32,
    paragraphs: Vec<String>,
}

fn story(vocabulary: &Vocabulary, rng: &mut Rng, topic: Vec<String>, billions: u32) -> Story {
    let company = capitalised(&topic[0]);
    let lead = format!(
        "{} {company} raises ${billions} billion {} {}.",
        vocabulary.paragraph(rng, &topic),
        topic[1 + rng.below(11)],
        vocabulary.sentence(rng, &topic).to_lowercase()
    );
    let mut paragraphs = vec![lead];
    paragraphs.extend((0..7).map(|_| vocabulary.paragraph(rng, &topic)));
    let headline = format!(
        "{company} {} {} {}",
        topic[1 + rng.below(11)],
        topic[1 + rng.below(11)],
        vocabulary.0[rng.below(vocabulary.0.len())]
    );
    Story {
        topic,
        company,
        headline,
        billions,
        paragraphs,
    }
}

/// `count` stories no other item tells, numbered from `first_story`, an hour apart, in `feed`:
/// the bulk of a real feed, where most stories have no copy.
pub fn singles(seed: u64, feed: &str, count: usize, first_story: usize) -> Vec<Entry> {
    let vocabulary = Vocabulary::new();
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|n| {
            let topic = vocabulary.topic(&mut rng);
            let billions = 2 + rng.below(40) as u32;
            let story = story(&vocabulary, &mut rng, topic, billions);
            Entry {
                guid: format!("{feed}-single-{n}"),
                title: story.headline,
                link: format!("https://{feed}.example/single/{n}"),
                paragraphs: story.paragraphs,
                published: n as i64 * 3600,
                story: first_story + n,
            }
        })
        .collect()
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Feed names copies are spread over; the original of every pair is in `wire`.
pub const COPY_FEEDS: [&str; 3] = ["alpha", "beta", "gamma"];
/// The footer `gamma` appends to every item.
pub const GAMMA_FOOTER: &str = "This article first appeared on Gamma Daily News. Subscribe to our newsletter for the \
     best stories of the week, delivered to your inbox every Friday morning. Follow us on social media.";

/// A corpus: for each pair, an original in `wire` and a copy of `kind` in a copy feed.
pub struct Corpus {
    /// (feed name, its entries).
    pub feeds: Vec<(String, Vec<Entry>)>,
    /// (kind, story of the original, story of the copy), one per pair.
    pub pairs: Vec<(Kind, usize, usize)>,
}

/// `per_kind` pairs of every kind, plus a templated series in two feeds (negatives).
pub fn corpus(seed: u64, per_kind: usize) -> Corpus {
    let vocabulary = Vocabulary::new();
    let mut rng = Rng::new(seed);
    let mut feeds: Vec<(String, Vec<Entry>)> = std::iter::once("wire")
        .chain(COPY_FEEDS)
        .map(|f| (f.to_string(), Vec::new()))
        .collect();
    let mut pairs = Vec::new();
    let mut next_story = 0usize;
    let kinds: Vec<Kind> = Kind::POSITIVE
        .iter()
        .chain(&Kind::NEGATIVE)
        .flat_map(|k| std::iter::repeat_n(*k, per_kind))
        .collect();
    for (n, kind) in kinds.into_iter().enumerate() {
        let topic = vocabulary.topic(&mut rng);
        let billions = 2 + rng.below(40) as u32;
        let original = story(&vocabulary, &mut rng, topic, billions);
        let published = (n as i64) * 60;
        let story_id = next_story;
        next_story += 1;
        let copy_id = if kind.same_story() {
            story_id
        } else {
            next_story += 1;
            next_story - 1
        };
        let copy_feed = match kind {
            Kind::Boilerplate => "gamma",
            Kind::SameFeed => "wire",
            _ => COPY_FEEDS[n % 2],
        };
        let (original_entry, copy) = pair(
            &vocabulary,
            &mut rng,
            kind,
            &original,
            (story_id, copy_id),
            published,
            (n, copy_feed),
        );
        feeds[0].1.push(original_entry);
        let mut copy = copy;
        if copy_feed == "wire" {
            copy.guid.push_str("-again");
            copy.link.push_str("-again");
        }
        let at = feeds.iter().position(|(f, _)| f == copy_feed).unwrap_or(1);
        feeds[at].1.push(copy);
        pairs.push((kind, story_id, copy_id));
    }
    // gamma's footer is on every one of its items, so it is boilerplate in its documents.
    for entry in &mut feeds[3].1 {
        entry.paragraphs.push(GAMMA_FOOTER.to_string());
    }
    for (feed, first_week) in [("digest-d", 41u32), ("digest-e", 41)] {
        let entries = (0..4)
            .map(|w| {
                let story = next_story;
                next_story += 1;
                series_item(&vocabulary, &mut rng, feed, first_week + w, story)
            })
            .collect();
        feeds.push((feed.to_string(), entries));
    }
    Corpus { feeds, pairs }
}

/// A weekly digest: a template both digest feeds share, then three blurbs of its own.
fn series_item(
    vocabulary: &Vocabulary,
    rng: &mut Rng,
    feed: &str,
    week: u32,
    story: usize,
) -> Entry {
    let template = "Welcome to the weekly digest of the most interesting links from around the web, \
                    curated by our editors and sent to every subscriber of the newsletter. \
                    Reply to this email to suggest a link for the next issue of the digest.";
    let mut paragraphs = vec![format!("Weekly digest, week {week}."), template.to_string()];
    let topic = vocabulary.topic(rng);
    paragraphs.extend((0..3).map(|_| vocabulary.sentence(rng, &topic)));
    Entry {
        guid: format!("{feed}-week-{week}"),
        title: format!("Weekly digest, week {week}"),
        link: format!("https://{feed}.example/digest/{week}"),
        paragraphs,
        published: i64::from(week) * 60,
        story,
    }
}

/// The original in `wire` and its copy (or look-alike) of `kind`.
fn pair(
    vocabulary: &Vocabulary,
    rng: &mut Rng,
    kind: Kind,
    original: &Story,
    (story_id, copy_story): (usize, usize),
    published: i64,
    (n, copy_feed): (usize, &str),
) -> (Entry, Entry) {
    let entry = |feed: &str, title: &str, paragraphs: Vec<String>, published: i64, story| Entry {
        guid: format!("{feed}-{n}"),
        title: title.to_string(),
        link: format!("https://{feed}.example/news/{n}"),
        paragraphs,
        published,
        story,
    };
    if kind == Kind::Short {
        let short = |rng: &mut Rng| vec![vocabulary.sentence(rng, &original.topic)];
        return (
            entry("wire", "Open thread", short(rng), published, story_id),
            entry(copy_feed, "Open thread", short(rng), published, copy_story),
        );
    }
    let first = entry(
        "wire",
        &original.headline,
        original.paragraphs.clone(),
        published,
        story_id,
    );
    let mut paragraphs = original.paragraphs.clone();
    let mut title = original.headline.clone();
    let mut at = published + 1800;
    match kind {
        Kind::Retitled | Kind::SameFeed => {
            title = format!("Why {} matters now", original.company);
        }
        Kind::Trimmed => {
            paragraphs.remove(5);
            paragraphs.remove(2);
        }
        Kind::Extended => {
            paragraphs.insert(3, vocabulary.paragraph(rng, &original.topic));
            paragraphs.push(vocabulary.paragraph(rng, &original.topic));
        }
        Kind::Boilerplate => {}
        Kind::Summary => paragraphs.truncate(1),
        Kind::OtherSite => {
            paragraphs[4] = vocabulary.paragraph(rng, &original.topic);
            title = format!("{} (update)", original.headline);
        }
        Kind::Artefacts => {
            paragraphs = paragraphs.iter().map(|p| with_artefacts(rng, p)).collect();
        }
        Kind::SameTopic => {
            let other = story(vocabulary, rng, original.topic.clone(), original.billions);
            paragraphs = other.paragraphs.clone();
            paragraphs[0] = paragraphs[0].replacen(
                &format!("raises ${} billion", other.billions),
                &format!("signs a deal worth ${} billion", other.billions),
                1,
            );
            title = original.headline.clone();
        }
        Kind::FollowUp => {
            paragraphs[0] = paragraphs[0].replacen(
                &format!("${} billion", original.billions),
                &format!("${} billion", original.billions + 3),
                1,
            );
            paragraphs.truncate(6);
            paragraphs.insert(1, vocabulary.paragraph(rng, &original.topic));
            title = format!("{} raises more", original.company);
        }
        Kind::Late => {
            at = published - 5 * 86400;
            title = format!("{} (week in review)", original.headline);
        }
        Kind::Short => {}
    }
    (first, entry(copy_feed, &title, paragraphs, at, copy_story))
}

/// Every twentieth word doubled and run into the next ("did notdid not"), and a stray
/// "Advertisement" in the middle.
fn with_artefacts(rng: &mut Rng, paragraph: &str) -> String {
    let words: Vec<&str> = paragraph.split(' ').collect();
    let mut out = Vec::new();
    for (i, word) in words.iter().enumerate() {
        if rng.below(20) == 0
            && let Some(next) = words.get(i + 1)
        {
            out.push(format!("{word}{next}"));
        }
        out.push((*word).to_string());
        if i == words.len() / 2 && rng.below(3) == 0 {
            out.push("Advertisement".into());
        }
    }
    out.join(" ")
}

/// When the corpus starts: a day before now, to the hour, so that its stories are recent
/// (near merging compares stories published within `near_window` of now).
/// Taken once per run, so an hour turning during a test never moves half a corpus.
pub fn start() -> i64 {
    static START: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *START.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        (now - 86400) / 3600 * 3600
    })
}

/// RFC 3339 time of `seconds` after the corpus's start.
pub fn time(seconds: i64) -> String {
    let base = start() + seconds;
    let days = base.div_euclid(86400);
    let rest = base.rem_euclid(86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn html(entry: &Entry) -> String {
    entry
        .paragraphs
        .iter()
        .map(|p| format!("<p>{p}</p>"))
        .collect()
}

/// The feed as RSS 2.0 (`description` escaped), Atom (html content) or JSON Feed, by `format`
/// 0, 1 or 2.
pub fn document(name: &str, entries: &[Entry], format: usize) -> String {
    match format % 3 {
        0 => {
            let items: String = entries
                .iter()
                .map(|e| {
                    format!(
                        "<item><guid isPermaLink=\"false\">{}</guid><title>{}</title><link>{}</link>\
                         <pubDate>{}</pubDate><description>{}</description></item>",
                        e.guid,
                        xml_escape(&e.title),
                        e.link,
                        rfc2822(e.published),
                        xml_escape(&html(e))
                    )
                })
                .collect();
            format!(
                "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{name}</title>\
                 <link>https://{name}.example/</link>{items}</channel></rss>"
            )
        }
        1 => {
            let entries: String = entries
                .iter()
                .map(|e| {
                    format!(
                        "<entry><id>urn:{}</id><title>{}</title><link href=\"{}\"/>\
                         <updated>{}</updated><content type=\"html\">{}</content></entry>",
                        e.guid,
                        xml_escape(&e.title),
                        e.link,
                        time(e.published),
                        xml_escape(&html(e))
                    )
                })
                .collect();
            format!(
                "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">\
                 <title>{name}</title><id>urn:{name}</id><updated>{}</updated>{entries}</feed>",
                time(0)
            )
        }
        _ => {
            let items: Vec<String> = entries
                .iter()
                .map(|e| {
                    format!(
                        "{{\"id\":{},\"title\":{},\"url\":{},\"date_published\":\"{}\",\"content_html\":{}}}",
                        json_string(&e.guid),
                        json_string(&e.title),
                        json_string(&e.link),
                        time(e.published),
                        json_string(&html(e))
                    )
                })
                .collect();
            format!(
                "{{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":{},\"items\":[{}]}}",
                json_string(name),
                items.join(",")
            )
        }
    }
}

fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out + "\""
}

/// RFC 2822 time of `seconds` after the corpus's start.
fn rfc2822(seconds: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let iso = time(seconds);
    let (year, month, day) = (&iso[0..4], &iso[5..7], &iso[8..10]);
    let month = MONTHS[month.parse::<usize>().unwrap_or(1) - 1];
    format!("{day} {month} {year} {} +0000", &iso[11..19])
}
