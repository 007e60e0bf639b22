//! Test support: a loopback HTTP server with scripted routes, config files in temp dirs,
//! and the real binary.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

/// One scripted answer of the test server.
#[derive(Clone, Debug)]
pub struct Route {
    pub status: u16,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub headers: Vec<(&'static str, String)>,
    /// Time before the response starts.
    pub delay: Duration,
    /// When set, the body is sent one byte per this interval.
    pub drip: Option<Duration>,
}

impl Route {
    pub fn ok(body: impl Into<Vec<u8>>) -> Route {
        Route {
            status: 200,
            body: body.into(),
            content_type: "application/xml",
            etag: None,
            last_modified: None,
            headers: Vec::new(),
            delay: Duration::ZERO,
            drip: None,
        }
    }

    pub fn status(status: u16) -> Route {
        Route {
            status,
            content_type: "text/plain",
            ..Route::ok("error")
        }
    }

    /// A redirect with this status to `location`.
    pub fn redirect(status: u16, location: &str) -> Route {
        Route::status(status).with_header("location", location)
    }

    pub fn with_etag(mut self, etag: &str) -> Route {
        self.etag = Some(etag.to_string());
        self
    }

    pub fn with_last_modified(mut self, date: &str) -> Route {
        self.last_modified = Some(date.to_string());
        self
    }

    pub fn with_content_type(mut self, content_type: &'static str) -> Route {
        self.content_type = content_type;
        self
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Route {
        self.headers.push((name, value.to_string()));
        self
    }

    pub fn with_delay(mut self, delay: Duration) -> Route {
        self.delay = delay;
        self
    }

    pub fn dripping(mut self, every: Duration) -> Route {
        self.drip = Some(every);
        self
    }
}

#[derive(Default)]
struct Shared {
    routes: HashMap<String, Route>,
    requests: Vec<(String, HeaderMap)>,
    in_flight: usize,
    max_in_flight: usize,
}

/// A server on a loopback address that answers each path as scripted, records every
/// request and counts how many are in flight at once.
#[derive(Clone)]
pub struct TestServer {
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_on("127.0.0.1").await
    }

    /// On another loopback address (127.0.0.2 …), which counts as another host.
    pub async fn start_on(ip: &str) -> TestServer {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let listener = tokio::net::TcpListener::bind((ip, 0))
            .await
            .expect("bind test server");
        let addr = listener.local_addr().expect("local addr");
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        TestServer { addr, shared }
    }

    pub fn serve(&self, path: &str, route: Route) {
        self.lock().routes.insert(path.to_string(), route);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The headers of every request made to `path`, in order.
    pub fn requests(&self, path: &str) -> Vec<HeaderMap> {
        self.lock()
            .requests
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, h)| h.clone())
            .collect()
    }

    /// The most requests that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.lock().max_in_flight
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().expect("test server state")
    }
}

/// Counts a request as in flight until dropped.
struct InFlight(Arc<Mutex<Shared>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut shared) = self.0.lock() {
            shared.in_flight -= 1;
        }
    }
}

async fn answer(State(shared): State<Arc<Mutex<Shared>>>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let route = {
        let mut state = shared.lock().expect("test server state");
        state
            .requests
            .push((path.clone(), request.headers().clone()));
        state.in_flight += 1;
        state.max_in_flight = state.max_in_flight.max(state.in_flight);
        state.routes.get(&path).cloned()
    };
    let in_flight = InFlight(shared);
    let Some(route) = route else {
        return plain(StatusCode::NOT_FOUND);
    };
    tokio::time::sleep(route.delay).await;
    let header = |name| {
        request
            .headers()
            .get(name)
            .and_then(|v: &header::HeaderValue| v.to_str().ok())
    };
    let etag_matches =
        route.etag.is_some() && route.etag.as_deref() == header(header::IF_NONE_MATCH);
    let date_matches = route.last_modified.is_some()
        && route.last_modified.as_deref() == header(header::IF_MODIFIED_SINCE);
    if etag_matches || (route.etag.is_none() && date_matches) {
        return plain(StatusCode::NOT_MODIFIED);
    }
    let mut response = Response::builder()
        .status(route.status)
        .header(header::CONTENT_TYPE, route.content_type);
    if let Some(etag) = &route.etag {
        response = response.header(header::ETAG, etag);
    }
    if let Some(date) = &route.last_modified {
        response = response.header(header::LAST_MODIFIED, date);
    }
    for (name, value) in &route.headers {
        response = response.header(*name, value);
    }
    let body = match route.drip {
        None => {
            drop(in_flight);
            Body::from(route.body)
        }
        Some(every) => {
            let bytes = route.body;
            Body::from_stream(futures_util::stream::unfold(
                (0, in_flight),
                move |(i, guard)| {
                    let bytes = bytes.clone();
                    async move {
                        if i >= bytes.len() {
                            return None;
                        }
                        tokio::time::sleep(every).await;
                        Some((
                            Ok::<_, std::io::Error>(bytes[i..=i].to_vec()),
                            (i + 1, guard),
                        ))
                    }
                },
            ))
        }
    };
    response.body(body).expect("valid response")
}

fn plain(status: StatusCode) -> Response {
    Response::builder()
        .status(status)
        .body(Body::empty())
        .expect("valid response")
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// A config file in a fresh temp dir; the database lives beside it.
pub struct TestConfig {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl TestConfig {
    pub fn write(text: &str) -> TestConfig {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("feedsift.toml");
        std::fs::write(&path, text).expect("write config");
        TestConfig { _dir: dir, path }
    }

    pub fn load(&self) -> feedsift::config::Config {
        feedsift::config::Config::load(&self.path).expect("valid test config")
    }
}

/// A test's config file, key by key: the daemon listens on any free loopback port and
/// requests to one host are 1 ms apart unless a test says otherwise. Values are TOML
/// (`"\"30m\""`, `"4"`).
pub struct ConfigBuilder {
    sections: Vec<(&'static str, Vec<(String, String)>)>,
    tables: String,
}

impl ConfigBuilder {
    pub fn new() -> ConfigBuilder {
        ConfigBuilder {
            sections: Vec::new(),
            tables: String::new(),
        }
        .set("server", "listen", "\"127.0.0.1:0\"")
        .set("fetch", "per_host_delay", "\"1ms\"")
    }

    /// `key = value` in `[section]`, replacing an earlier value.
    pub fn set(mut self, section: &'static str, key: &str, value: &str) -> ConfigBuilder {
        let at = match self.sections.iter().position(|(s, _)| *s == section) {
            Some(at) => at,
            None => {
                self.sections.push((section, Vec::new()));
                self.sections.len() - 1
            }
        };
        let keys = &mut self.sections[at].1;
        keys.retain(|(k, _)| k != key);
        keys.push((key.to_string(), value.to_string()));
        self
    }

    pub fn fetch(self, key: &str, value: &str) -> ConfigBuilder {
        self.set("fetch", key, value)
    }

    pub fn storage(self, key: &str, value: &str) -> ConfigBuilder {
        self.set("storage", key, value)
    }

    /// `[[feed]]` tables for (name, url, tags).
    pub fn feeds(mut self, feeds: &[(&str, &str, &[&str])]) -> ConfigBuilder {
        self.tables.push_str(&feeds_toml(feeds));
        self
    }

    /// `[[output]]` tables or anything else, as written.
    pub fn tables(mut self, toml: &str) -> ConfigBuilder {
        self.tables.push_str(toml);
        self
    }

    pub fn text(&self) -> String {
        let mut text = String::new();
        for (section, keys) in &self.sections {
            text.push_str(&format!("[{section}]\n"));
            for (key, value) in keys {
                text.push_str(&format!("{key} = {value}\n"));
            }
            text.push('\n');
        }
        text + &self.tables
    }

    pub fn write(&self) -> TestConfig {
        TestConfig::write(&self.text())
    }
}

/// The real `feedsift` binary, with its environment cleared of our variables.
pub fn feedsift() -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_feedsift"));
    cmd.env_remove("FEEDSIFT_CONFIG")
        .env("RUST_LOG", "info")
        .kill_on_drop(true);
    cmd
}

/// A config for the real daemon (any free port) with two feeds carrying the same OpenAI
/// story, `vb` (RSS) and `digest` (Atom), served by `server`, and the given `[[output]]`s.
pub fn two_copies_config(server: &TestServer, outputs: &str) -> TestConfig {
    server.serve("/vb.rss", Route::ok(fixture("openai_story.rss")));
    server.serve("/digest.atom", Route::ok(fixture("openai_story_copy.atom")));
    let feeds = feeds_toml(&[
        ("vb", &server.url("/vb.rss"), &[]),
        ("digest", &server.url("/digest.atom"), &[]),
    ]);
    ConfigBuilder::new().tables(&feeds).tables(outputs).write()
}

/// `[[feed]]` tables for the given (name, url, tags) triples.
pub fn feeds_toml(feeds: &[(&str, &str, &[&str])]) -> String {
    feeds
        .iter()
        .map(|(name, url, tags)| {
            let tags: Vec<String> = tags.iter().map(|t| format!("\"{t}\"")).collect();
            format!(
                "[[feed]]\nname = \"{name}\"\nurl = \"{url}\"\ntags = [{}]\n\n",
                tags.join(", ")
            )
        })
        .collect()
}

/// What a finished run of the binary left.
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// How long a server may take to serve what another process wrote to its store: it asks
/// SQLite at most every 100 ms (README), so twice that with room for the asking.
pub const SERVED_WITHIN: Duration = Duration::from_millis(200);

/// Runs `feedsift COMMAND -c CONFIG ARGS…` to completion.
pub async fn run_feedsift(command: &str, config: &Path, args: &[&str]) -> Ran {
    let out = feedsift()
        .arg(command)
        .arg("-c")
        .arg(config)
        .args(args)
        .output()
        .await
        .expect("run feedsift");
    Ran {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Serves `config`'s outputs in-process on loopback until the token is cancelled or dropped
/// with the test; returns the base URL.
pub async fn serve_outputs(
    config: &feedsift::config::Config,
) -> (String, tokio_util::sync::CancellationToken) {
    let store = feedsift::app::open_store(config).await.expect("open store");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let token = tokio_util::sync::CancellationToken::new();
    let state = feedsift::serve::AppState::new(store, Arc::new(config.clone()));
    tokio::spawn(feedsift::serve::serve(listener, state, token.clone()));
    (base, token)
}

/// The daemon (`app::daemon::run`) in the test's own process, on `127.0.0.1:0`: for tests
/// that are not about the process itself (signals, crashes and the command line use the
/// binary, see [`Daemon`]).
pub struct InProcess {
    base: String,
    stop: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl InProcess {
    pub async fn start(config: &Path) -> InProcess {
        let config = feedsift::config::Config::load(config).expect("valid config");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let stop = tokio_util::sync::CancellationToken::new();
        let task = tokio::spawn(feedsift::app::daemon::run(config, listener, stop.clone()));
        InProcess { base, stop, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Waits up to 10 s until `/metrics` has a line starting with `line`.
    pub async fn wait_for_metric(&self, line: &str) -> String {
        for _ in 0..200 {
            let text = get_text(&self.url("/metrics")).await;
            if text.lines().any(|l| l.starts_with(line)) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no metric {line:?}");
    }

    /// Stops it as SIGTERM would, and fails the test when it does not end cleanly.
    pub async fn stop(self) {
        self.stop.cancel();
        let ended = tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("stops within 10 s");
        ended
            .expect("daemon task")
            .expect("daemon ends without error");
    }
}

/// The real binary running `feedsift run` on a config whose `listen` is `127.0.0.1:0`.
pub struct Daemon {
    child: tokio::process::Child,
    /// Where it listens, as logged at start.
    pub addr: String,
    /// Its log lines so far.
    logs: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    pub async fn start(config: &Path) -> Daemon {
        use tokio::io::{AsyncBufReadExt, BufReader};
        let mut child = feedsift()
            .arg("run")
            .arg("-c")
            .arg(config)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start daemon");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let addr = tokio::time::timeout(std::time::Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.expect("read stderr") {
                if let Some(rest) = line.split("addr=").nth(1) {
                    return rest.split_whitespace().next().map(str::to_string);
                }
            }
            None
        })
        .await
        .expect("daemon starts in time")
        .expect("daemon logs its address");
        // Keep draining its log so it never blocks on a full pipe.
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().expect("logs").push(line);
            }
        });
        Daemon { child, addr, logs }
    }

    /// The daemon's environment as the kernel holds it (`/proc/PID/environ`).
    pub fn environment(&self) -> Vec<String> {
        let pid = self.child.id().expect("pid");
        let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("environ");
        environ
            .split(|b| *b == 0)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect()
    }

    /// Sends a signal (`HUP`, `TERM`, `KILL`) to the daemon.
    pub async fn signal(&self, name: &str) {
        let pid = self.child.id().expect("pid").to_string();
        let sent = tokio::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(&pid)
            .status()
            .await
            .expect("kill");
        assert!(sent.success());
    }

    /// Waits up to 10 s for a log line containing `text`.
    pub async fn wait_for_log(&self, text: &str) -> String {
        for _ in 0..200 {
            if let Some(line) = self
                .logs
                .lock()
                .expect("logs")
                .iter()
                .find(|l| l.contains(text))
            {
                return line.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no log line with {text:?} in {:#?}",
            self.logs.lock().expect("logs")
        );
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// How many log lines so far contain `text`.
    pub fn count_logs(&self, text: &str) -> usize {
        let logs = self.logs.lock().expect("logs");
        logs.iter().filter(|l| l.contains(text)).count()
    }

    /// Sends SIGTERM and returns the exit code, failing the test after 10 s.
    pub async fn stop(mut self) -> Option<i32> {
        self.signal("TERM").await;
        let status = tokio::time::timeout(std::time::Duration::from_secs(10), self.child.wait())
            .await
            .expect("daemon stops within 10 s")
            .expect("wait");
        status.code()
    }
}

/// Every line is a `# HELP`/`# TYPE` comment or a `feedsift_…` sample with a numeric value.
pub fn assert_prometheus_text(text: &str) {
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix("# ") {
            assert!(
                comment.starts_with("HELP feedsift_") || comment.starts_with("TYPE feedsift_"),
                "{line}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("a series and a value");
        assert!(
            series.starts_with("feedsift_") && value.parse::<f64>().is_ok(),
            "not Prometheus text: {line}"
        );
    }
}

/// The body of a GET to `url`, failing the test on any error.
pub async fn get_text(url: &str) -> String {
    reqwest::get(url)
        .await
        .expect("GET")
        .text()
        .await
        .expect("body")
}

/// Headless Chromium with the flags this machine's closed network needs.
pub fn chromium(profile: &Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new("chromium");
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1000,1400",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .kill_on_drop(true);
    cmd
}
