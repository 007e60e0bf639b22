//! Polling benchmark: the real `feedsift poll --all` against feeds served the way the web
//! serves them: static files with ETags from nginx, spread over 64 loopback host names, RSS,
//! Atom and JSON Feed in turn, 20–100 items of about 4.9 KB of HTML each (the shape of issue
//! #20). `concurrency = 16`, `per_host = 16`, `per_host_delay = "0s"`. For each size: a cold
//! poll (empty database), a warm one (every feed answers 304), and a cold one with near merging
//! off; wall time, CPU time and peak RSS of the feedsift process (GNU time), and each cold
//! poll's wall time per 1,000 feeds against the first size's. Then the daemon's first poll of
//! the same feeds while 32 connections read an output (`wrk`): latency, errors, peak RSS, and
//! RSS once the load stops, beside the same poll's without readers.
//!
//! Run: `cargo bench --bench poll` (needs nginx, wrk, curl and /usr/bin/time; `-- 1000 5000`
//! for sizes; default 1000; `-- --cold` for the cold poll alone, to compare two builds;
//! `-- --serve` for the daemon under load alone).

mod support;

use std::path::Path;

use support::{Rng, word};

/// Loopback addresses the feeds are spread over (each one a "host" to feedsift).
const HOSTS: usize = 64;

/// The polls timed at each size, in order: a label, and whether near merging is on.
const POLLS: [(&str, bool); 3] = [
    ("cold", true),
    ("warm", true),
    ("cold, near merging off", false),
];

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::args().filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![1000] } else { sizes };
    let cold_only = std::env::args().any(|a| a == "--cold");
    let serve_only = std::env::args().any(|a| a == "--serve");
    let mut first_per_thousand = None;
    for feeds in sizes {
        let dir = tempfile::tempdir().expect("temp dir");
        let bytes = write_documents(dir.path(), feeds);
        let port = free_port();
        let nginx = start_nginx(dir.path(), port);
        println!(
            "{feeds} feeds of 20–100 items, {:.0} MB of feeds over {HOSTS} loopback hosts (nginx)",
            bytes as f64 / 1e6
        );
        let polls = if serve_only { &[][..] } else { &POLLS[..] };
        for &(label, near) in polls {
            if label.starts_with("cold") {
                remove_database(dir.path());
            }
            let config = write_config(dir.path(), feeds, port, near);
            let polled = support::timed_poll(&config).await;
            let wall = polled
                .timing
                .split(' ')
                .next()
                .and_then(|w| w.parse::<f64>().ok())
                .unwrap_or(0.0);
            let per_thousand = wall * 1000.0 / feeds as f64;
            let ratio = if label == "cold" {
                let base = *first_per_thousand.get_or_insert(per_thousand);
                format!(
                    " | {per_thousand:.2} s per 1,000 feeds, {:.2}× the first size's",
                    per_thousand / base
                )
            } else {
                String::new()
            };
            println!("{label}: {} | {}{ratio}", polled.summary, polled.timing);
            if cold_only {
                break;
            }
        }
        if !cold_only {
            serve_while_polling(dir.path(), feeds, port).await;
        }
        drop(nginx);
    }
}

/// Writes `feeds` documents under `dir/www`; returns their total size.
fn write_documents(dir: &Path, feeds: usize) -> usize {
    let www = dir.join("www");
    std::fs::create_dir_all(&www).expect("www");
    let mut rng = Rng::new(11);
    let mut total = 0;
    for f in 0..feeds {
        let (name, doc) = document(f, &mut rng);
        total += doc.len();
        std::fs::write(www.join(name), doc).expect("write document");
    }
    total
}

/// The daemon on an empty database (its first poll of every feed, spread over its first
/// minute) while `wrk` reads an output of the newest 50 items with 32 connections for 75 s:
/// requests, errors, latency, the daemon's peak RSS, and its RSS 10 s after the load stops;
/// then the same poll with no readers, whose RSS at the same time is what the daemon holds
/// at rest with those items, and after which the same readers for 20 s show what serving
/// alone costs on this machine. Skipped when `wrk` is not installed.
async fn serve_while_polling(dir: &Path, feeds: usize, port: u16) {
    if std::process::Command::new("wrk")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("serving while polling: skipped (apt-get install wrk)");
        return;
    }
    let loaded = daemon_run(dir, feeds, port, true).await;
    let unloaded = daemon_run(dir, feeds, port, false).await;
    println!(
        "serving 32 readers during the daemon's first poll: {} | {} | RSS at start {:.0} MiB, \
         peak {:.0} MiB, 10 s after the load {:.0} MiB; the same poll without readers: peak \
         {:.0} MiB, {:.0} MiB at that time; then, the poll over, the same readers for 20 s: {}",
        loaded.wrk,
        loaded.fetched,
        loaded.at_start,
        loaded.peak,
        loaded.at_rest,
        unloaded.peak,
        unloaded.at_rest,
        unloaded.at_rest_wrk,
    );
}

/// What one run of the daemon showed.
struct DaemonRun {
    /// `wrk`'s requests, errors and latency during the poll (empty without readers).
    wrk: String,
    /// The same, after the poll without readers (empty with them).
    at_rest_wrk: String,
    /// Feeds fetched, from `/metrics`.
    fetched: String,
    /// RSS in MiB when it started serving, at its peak, and 10 s after the readers' 75 s.
    at_start: f64,
    peak: f64,
    at_rest: f64,
}

/// Runs the daemon on an empty database for the feeds' first poll, with `readers` (`wrk`)
/// for 75 s or without; 10 s later, stops it.
async fn daemon_run(dir: &Path, feeds: usize, port: u16, readers: bool) -> DaemonRun {
    const LOAD: std::time::Duration = std::time::Duration::from_secs(75);
    const AT_REST: std::time::Duration = std::time::Duration::from_secs(20);
    remove_database(dir);
    let serve_port = free_port();
    let config = write_config(dir, feeds, port, true);
    let text = std::fs::read_to_string(&config).expect("config");
    let text = text.replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.1.1:{serve_port}\""),
    ) + "[[output]]\nname = \"all\"\nfilter = \"not #unused\"\nlimit = 50\n";
    std::fs::write(&config, text).expect("config");
    let mut daemon = std::process::Command::new(env!("CARGO_BIN_EXE_feedsift"))
        .args(["run", "-c"])
        .arg(&config)
        .env("RUST_LOG", "error")
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the daemon");
    let url = format!("http://127.0.1.1:{serve_port}/feeds/all.atom");
    while std::net::TcpStream::connect(("127.0.1.1", serve_port)).is_err() {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let rss = |field: &str| -> f64 {
        std::fs::read_to_string(format!("/proc/{}/status", daemon.id()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    let at_start = rss("VmRSS:");
    let wrk = if readers {
        read_output(&url, LOAD).await
    } else {
        tokio::time::sleep(LOAD).await;
        String::new()
    };
    let peak = rss("VmHWM:");
    tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    let at_rest = rss("VmRSS:");
    // The same readers once the poll is over: what serving alone costs on this machine.
    let at_rest_wrk = if readers {
        String::new()
    } else {
        read_output(&url, AT_REST).await
    };
    let polled = std::process::Command::new("curl")
        .args(["-s", &format!("http://127.0.1.1:{serve_port}/metrics")])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let fetched = polled
        .lines()
        .find(|l| l.starts_with("feedsift_polls_total{outcome=\"fetched\"}"))
        .unwrap_or("feedsift_polls_total: not read")
        .to_string();
    let _ = daemon.kill();
    let _ = daemon.wait();
    DaemonRun {
        wrk,
        at_rest_wrk,
        fetched,
        at_start,
        peak,
        at_rest,
    }
}

/// `wrk` reading `url` with 32 connections for `load`: requests, errors and latency.
async fn read_output(url: &str, load: std::time::Duration) -> String {
    let report = tokio::process::Command::new("wrk")
        .args(["-t2", "-c32", "--timeout", "5s", "--latency"])
        .arg(format!("-d{}s", load.as_secs()))
        .args(["-H", "Accept-Encoding: gzip"])
        .arg(url)
        .output()
        .await
        .expect("run wrk");
    let report = String::from_utf8_lossy(&report.stdout).into_owned();
    let lines: Vec<&str> = report
        .lines()
        .filter(|l| {
            ["requests in", "Socket errors", "Non-2xx", " 50%", " 99%"]
                .iter()
                .any(|k| l.contains(k))
        })
        .map(str::trim)
        .collect();
    lines.join("; ")
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.1.1:0").expect("a free port");
    listener.local_addr().expect("addr").port()
}

/// nginx in the foreground, serving `dir/www` on `port` of 127.0.1.1 … 127.0.1.64; stopped
/// (workers too) when dropped.
struct Nginx {
    master: std::process::Child,
    conf: std::path::PathBuf,
    dir: std::path::PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = std::process::Command::new("nginx")
            .args(["-s", "stop", "-c"])
            .arg(&self.conf)
            .arg("-p")
            .arg(&self.dir)
            .stderr(std::process::Stdio::null())
            .status();
        let _ = self.master.wait();
    }
}

fn start_nginx(dir: &Path, port: u16) -> Nginx {
    let listens: String = (1..=HOSTS)
        .map(|h| format!("    listen 127.0.1.{h}:{port};\n"))
        .collect();
    let conf = format!(
        "daemon off;\nworker_processes 1;\npid {dir}/nginx.pid;\nerror_log {dir}/error.log;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {dir}/tmp;\n  proxy_temp_path {dir}/tmp;\n\
           fastcgi_temp_path {dir}/tmp;\n  uwsgi_temp_path {dir}/tmp;\n  scgi_temp_path {dir}/tmp;\n\
           types {{ application/rss+xml rss; application/atom+xml atom; application/feed+json json; }}\n\
           server {{\n{listens}    root {dir}/www;\n    etag on;\n  }}\n}}\n",
        dir = dir.display()
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).expect("nginx.conf");
    std::fs::create_dir_all(dir.join("tmp")).expect("tmp");
    let master = std::process::Command::new("nginx")
        .arg("-c")
        .arg(&path)
        .arg("-p")
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nginx is installed (apt-get install nginx)");
    // Until it answers.
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.1.64", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Nginx {
        master,
        conf: path,
        dir: dir.to_path_buf(),
    }
}

fn write_config(dir: &Path, feeds: usize, port: u16, near: bool) -> std::path::PathBuf {
    let mut config = format!(
        "[fetch]\nconcurrency = 16\nper_host = 16\nper_host_delay = \"0s\"\n\n\
         [server]\nlisten = \"127.0.0.1:0\"\n\n[dedup]\nnear = {near}\n\n"
    );
    for f in 0..feeds {
        let host = f % HOSTS + 1;
        let ext = ["rss", "atom", "json"][f % 3];
        config.push_str(&format!(
            "[[feed]]\nname = \"feed{f}\"\nurl = \"http://127.0.1.{host}:{port}/feed{f}.{ext}\"\n"
        ));
    }
    let path = dir.join("feedsift.toml");
    std::fs::write(&path, config).expect("config");
    path
}

/// Feed `f`: its file name and document, 20–100 items of about 4.9 KB of HTML each.
fn document(f: usize, rng: &mut Rng) -> (String, String) {
    let items = 20 + rng.below(81);
    let entries: Vec<(String, String, String)> = (0..items)
        .map(|i| {
            let paragraphs: String = (0..6)
                .map(|_| {
                    let words: Vec<String> = (0..110).map(|_| word(rng.skewed(5000))).collect();
                    format!("<p>{}</p>", words.join(" "))
                })
                .collect();
            let html = format!(
                "{paragraphs}<p>#{} #{}</p>",
                word(rng.skewed(10_000)),
                word(rng.skewed(10_000))
            );
            (
                format!("Story {f}-{i} {}", word(rng.below(2000))),
                format!("https://site{f}.example/{i}"),
                html,
            )
        })
        .collect();
    let date = |i: usize| format!("2026-11-{:02}T10:{:02}:00Z", 1 + i % 28, i % 60);
    match f % 3 {
        0 => {
            let body: String = entries
                .iter()
                .enumerate()
                .map(|(i, (title, link, html))| {
                    format!(
                        "<item><title>{title}</title><link>{link}</link><guid>s{f}-{i}</guid>\
                         <pubDate>Mon, {:02} Nov 2026 10:{:02}:00 GMT</pubDate>\
                         <description><![CDATA[{html}]]></description></item>\n",
                        1 + i % 28,
                        i % 60
                    )
                })
                .collect();
            (
                format!("feed{f}.rss"),
                format!(
                    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Feed {f}</title>\
                     <link>https://site{f}.example/</link><description>d</description>\n{body}</channel></rss>\n"
                ),
            )
        }
        1 => {
            let body: String = entries
                .iter()
                .enumerate()
                .map(|(i, (title, link, html))| {
                    format!(
                        "<entry><id>urn:s{f}-{i}</id><title>{title}</title><link href=\"{link}\"/>\
                         <updated>{}</updated><content type=\"html\"><![CDATA[{html}]]></content></entry>\n",
                        date(i)
                    )
                })
                .collect();
            (
                format!("feed{f}.atom"),
                format!(
                    "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Feed {f}</title>\
                     <id>urn:feed{f}</id><updated>2026-11-30T00:00:00Z</updated>\n{body}</feed>\n"
                ),
            )
        }
        _ => {
            let body: Vec<String> = entries
                .iter()
                .enumerate()
                .map(|(i, (title, link, html))| {
                    serde_json::json!({
                        "id": format!("s{f}-{i}"),
                        "title": title,
                        "url": link,
                        "date_published": date(i),
                        "content_html": html,
                    })
                    .to_string()
                })
                .collect();
            (
                format!("feed{f}.json"),
                format!(
                    "{{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"Feed {f}\",\"items\":[{}]}}\n",
                    body.join(",\n")
                ),
            )
        }
    }
}

/// Removes the database and its text index, with their logs, for a cold start.
fn remove_database(dir: &Path) {
    for file in [
        "feedsift.db",
        "feedsift.db-wal",
        "feedsift.db-text",
        "feedsift.db-text-wal",
    ] {
        let _ = std::fs::remove_file(dir.join(file));
    }
}
