//! The `feedsift` command line: parses arguments, sets up logging, runs one command,
//! prints the error chain once and sets the exit code (0 ok, 2 bad config or arguments, 1 other).

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use tokio_util::sync::CancellationToken;

use feedsift::app::daemon;
use feedsift::app::{self, BadArgument};
use feedsift::config::{Config, ConfigError};
use feedsift::filter::FilterError;
use feedsift::publish::Format;
use feedsift::store::SplitError;
use feedsift::{inspect, report, subscriptions};

#[derive(Debug, Parser)]
#[command(
    name = "feedsift",
    version,
    about = "Polls feeds, stores each story once, republishes tag-filtered feeds"
)]
struct Cli {
    /// The config file (default: $FEEDSIFT_CONFIG, ./feedsift.toml, /etc/feedsift/feedsift.toml).
    #[arg(short, long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log line format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Add the subscriptions of an OPML file to the config (its comments are kept).
    ImportOpml {
        /// The OPML file, e.g. exported from a reader app.
        file: PathBuf,
    },
    #[command(flatten)]
    Configured(Configured),
}

/// The commands that read a valid config first (`import-opml` may create one).
#[derive(Debug, Subcommand)]
enum Configured {
    /// Run the daemon: poll on schedule and serve HTTP until SIGTERM or SIGINT.
    Run,
    /// Validate the config and print a summary.
    Check,
    /// Poll the due feeds once (or all of them, or one), then exit.
    Poll {
        /// Poll every feed, due or not.
        #[arg(long, conflicts_with = "feed")]
        all: bool,
        /// Poll only this feed.
        #[arg(long, value_name = "NAME")]
        feed: Option<String>,
    },
    /// Show each feed's health.
    Feeds,
    /// List the items that match a filter expression.
    Query {
        /// The filter expression, e.g. '#AI and not #crypto'.
        expr: String,
        /// Most items to list.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Output format.
        #[arg(long, value_enum, default_value_t = QueryFormat::Text)]
        format: QueryFormat,
        /// Show for each item which terms matched (text format).
        #[arg(long)]
        explain: bool,
    },
    /// Show one item (entry id or URL): its sources, hash, tags and where each came from,
    /// and the outputs it is in and why.
    Explain {
        /// A published entry id (urn:uuid:…), the item's URL, or its content hash (hex).
        item: String,
    },
    /// Undo a near-duplicate merge for good: FEED's copy of ITEM becomes an item of its own
    /// and is never merged into ITEM again.
    Split {
        /// The story, named as for `explain`.
        item: String,
        /// The name of the feed whose copy is split off.
        feed: String,
    },
    /// Write the configured feeds as OPML to standard output.
    ExportOpml,
    /// Write a consistent copy of the database to FILE; safe while the daemon runs.
    Backup {
        /// Where the copy goes (replaced when it exists).
        file: PathBuf,
    },
    /// Write one output as a document, for static hosting.
    Render {
        /// The output's name.
        output: String,
        #[arg(long, value_enum, default_value_t = DocFormat::Atom)]
        format: DocFormat,
        /// Write to this file instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum QueryFormat {
    Text,
    Atom,
    Rss,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DocFormat {
    Atom,
    Rss,
    Json,
}

impl From<DocFormat> for Format {
    fn from(f: DocFormat) -> Format {
        match f {
            DocFormat::Atom => Format::Atom,
            DocFormat::Rss => Format::Rss,
            DocFormat::Json => Format::Json,
        }
    }
}

fn main() -> ExitCode {
    feedsift::arenas::limit();
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("feedsift: {error:#}");
            let bad_input = error.downcast_ref::<ConfigError>().is_some()
                || error.downcast_ref::<BadArgument>().is_some()
                || error.downcast_ref::<FilterError>().is_some();
            ExitCode::from(if bad_input { 2 } else { 1 })
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::new(log_directives(
        std::env::var("RUST_LOG").ok().as_deref(),
    ));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| LogWriter)
        .with_ansi(std::io::stderr().is_terminal());
    // Under systemd the journal stamps every line itself.
    let journal = std::env::var_os("JOURNAL_STREAM").is_some();
    match format {
        LogFormat::Text if journal => builder.without_time().init(),
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// The log filter: a bare level (`RUST_LOG=debug`) applies to feedsift's own events, with
/// its libraries (rustls, hyper, …) kept at `warn`; anything more specific is used as given.
fn log_directives(rust_log: Option<&str>) -> String {
    match rust_log.map(str::trim).filter(|l| !l.is_empty()) {
        None => "warn,feedsift=info".into(),
        Some(level) if !level.contains(['=', ',', '[']) => format!("warn,feedsift={level}"),
        Some(directives) => directives.into(),
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let path = Config::locate(cli.config.as_deref())?;
    let command = match cli.command {
        Command::ImportOpml { file } => {
            for line in app::import::import_opml(&path, &file)? {
                println!("{line}");
            }
            return Ok(());
        }
        Command::Configured(command) => command,
    };
    let config = Config::load(&path)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        match command {
            Configured::Check => {
                println!("{}", report::config_summary(&config));
                for warning in config.warnings() {
                    eprintln!("warning: {warning}");
                }
                // What earlier polls found out about the configured URLs.
                if config.storage.path.exists() {
                    let store = app::open_store(&config).await?;
                    for h in store.call(|s| s.feed_health()).await? {
                        if let Some(url) = h.effective_url {
                            eprintln!(
                                "warning: feed `{}` lives at {url} (moved, or linked from the web page configured): update its url",
                                h.name
                            );
                        }
                    }
                }
                Ok(())
            }
            Configured::Run => {
                let listener = tokio::net::TcpListener::bind(config.server.listen)
                    .await
                    .with_context(|| format!("cannot listen on {}", config.server.listen))?;
                let shutdown = CancellationToken::new();
                daemon::cancel_on_signal(shutdown.clone())?;
                daemon::run(config, listener, shutdown).await
            }
            Configured::Poll { all, feed } => {
                let selection = match (&feed, all) {
                    (Some(name), _) => app::Selection::One(name),
                    (None, true) => app::Selection::All,
                    (None, false) => app::Selection::Due,
                };
                let bar = progress_bar();
                let summary = app::poll_once(&config, selection, &|s| {
                    bar.set_length(s.selected as u64);
                    bar.set_position((s.fetched + s.not_modified + s.failed) as u64);
                    bar.set_message(format!("{} new items, {} failed", s.items.new, s.failed));
                })
                .await?;
                bar.finish_and_clear();
                SHOWN_BAR.lock().unwrap_or_else(|p| p.into_inner()).take();
                println!("{}", report::poll_summary(&summary));
                if summary.selected > 0 && summary.failed == summary.selected {
                    anyhow::bail!(
                        "every feed polled failed ({}); see `feedsift feeds`",
                        summary.failed
                    );
                }
                Ok(())
            }
            Configured::Feeds => {
                let store = app::open_store(&config).await?;
                let health = store.call(|s| s.feed_health()).await?;
                print!(
                    "{}",
                    report::health_table(&config, &health, chrono::Utc::now())
                );
                Ok(())
            }
            Configured::Query {
                expr,
                limit,
                format,
                explain,
            } => query(config, &expr, limit, format, explain).await,
            Configured::Explain { item } => {
                let store = app::open_store(&config).await?;
                let needle = item.clone();
                let found = store
                    .call(move |s| inspect::explain(s, &config, &needle))
                    .await?;
                let explanation = found.ok_or_else(|| {
                    BadArgument(format!("no stored item has the id or URL `{item}`"))
                })?;
                print!("{}", report::explanation(&explanation));
                Ok(())
            }
            Configured::Split { item, feed } => {
                let store = app::open_store(&config).await?;
                let (needle, name) = (item.clone(), feed.clone());
                let split = store
                    .call(move |s| {
                        Ok(inspect::split(s, &needle, &name, chrono::Utc::now()))
                    })
                    .await?;
                match split {
                    Ok(entry_id) => {
                        println!("{feed}'s copy of {item} is now an item of its own: {entry_id}");
                        Ok(())
                    }
                    Err(SplitError::Store(e)) => Err(e.into()),
                    Err(e) => Err(BadArgument(e.to_string()).into()),
                }
            }
            Configured::Backup { file } => {
                if file.canonicalize().ok() == config.storage.path.canonicalize().ok()
                    && file.exists()
                {
                    return Err(BadArgument(format!(
                        "{} is the database itself: name another file",
                        file.display()
                    ))
                    .into());
                }
                let store = app::open_store(&config).await?;
                let dest = file.clone();
                store.call(move |s| s.backup_to(&dest)).await?;
                println!("{}: backup written", file.display());
                Ok(())
            }
            Configured::ExportOpml => {
                let subs = subscriptions::configured(&config);
                write_out(
                    None,
                    &feedsift::publish::opml::render("feedsift subscriptions", &subs),
                )
            }
            Configured::Render {
                output,
                format,
                out,
            } => {
                let output = config.output(&output).cloned().ok_or_else(|| {
                    BadArgument(format!("no output named `{output}` in the config"))
                })?;
                let store = app::open_store_to_search(&config).await?;
                let doc = store
                    .call(move |s| inspect::render_output(s, &config, &output, format.into()))
                    .await?;
                write_out(out.as_deref(), &doc)
            }
        }
    })
}

async fn query(
    config: Config,
    expr: &str,
    limit: usize,
    format: QueryFormat,
    explain: bool,
) -> anyhow::Result<()> {
    let expr = feedsift::filter::parse(expr)?;
    let store = app::open_store_to_search(&config).await?;
    let doc_format = match format {
        QueryFormat::Text => None,
        QueryFormat::Atom => Some(Format::Atom),
        QueryFormat::Rss => Some(Format::Rss),
        QueryFormat::Json => Some(Format::Json),
    };
    let text = store
        .call(move |s| {
            let results = inspect::query(s, &expr, limit, explain)?;
            Ok(match doc_format {
                None => report::query_results(&results),
                Some(format) => {
                    let items: Vec<_> = results.into_iter().map(|(item, _)| item).collect();
                    format.render(&inspect::search_channel(&config, &expr, format), &items)
                }
            })
        })
        .await?;
    write_out(None, &text)
}

/// The progress bar on screen, if any: log lines are written above it, not into its line.
static SHOWN_BAR: std::sync::Mutex<Option<indicatif::ProgressBar>> = std::sync::Mutex::new(None);

/// Stderr for log lines, which hides the progress bar while a line is written.
struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = SHOWN_BAR.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match bar {
            Some(bar) => bar.suspend(|| std::io::stderr().write(buf)),
            None => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// A progress bar on stderr when it is a terminal; hidden otherwise (logs, pipes, CI).
fn progress_bar() -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} feeds  {msg}")
    {
        bar.set_style(style);
    }
    *SHOWN_BAR.lock().unwrap_or_else(|p| p.into_inner()) = Some(bar.clone());
    bar
}

fn write_out(path: Option<&std::path::Path>, text: &str) -> anyhow::Result<()> {
    match path {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| BadArgument(format!("cannot write {}: {e}", path.display())).into()),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
