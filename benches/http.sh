#!/usr/bin/env bash
# HTTP benchmark of a published output: requests per second and latency for an unchanged
# 50-entry output fetched with If-None-Match (304s) and without (full gzip bodies).
#
# Run: bash benches/http.sh   (needs wrk: apt-get install -y wrk; builds the release binary)
# Both wrk and the daemon share this machine's cores; read the figures as a lower bound.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }
cargo build --release --locked --quiet

dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
port=$((20000 + RANDOM % 20000))

{
  echo '<?xml version="1.0"?><rss version="2.0"><channel><title>Bench</title><link>https://bench.example/</link><description>d</description>'
  for i in $(seq 1 50); do
    printf '<item><title>Story %d about #AI</title><link>https://bench.example/%d</link><guid>b-%d</guid>' "$i" "$i" "$i"
    printf '<pubDate>Mon, 02 Jan 2023 %02d:%02d:00 GMT</pubDate><description><![CDATA[' $((i % 24)) $((i % 60))
    for p in 1 2 3; do printf '<p>Paragraph %d of story %d: a typical news text with a few sentences of content, #AI and #Bench tags, and <a href="/rel/%d">a relative link</a>.</p>' "$p" "$i" "$i"; done
    printf ']]></description></item>\n'
  done
  echo '</channel></rss>'
} > "$dir/bench.rss"

cat > "$dir/feedsift.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
[[feed]]
url = "file://$dir/bench.rss"
name = "bench"
[[output]]
name = "bench"
filter = "#AI"
limit = 50
TOML

./target/release/feedsift poll -c "$dir/feedsift.toml" --all
RUST_LOG=warn ./target/release/feedsift run -c "$dir/feedsift.toml" &
pid=$!
url="http://127.0.0.1:$port/feeds/bench.atom"
for _ in $(seq 1 50); do curl -sf "$url" -o /dev/null && break; sleep 0.1; done

etag=$(curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip' "$url" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
size=$(curl -s -H 'Accept-Encoding: gzip' "$url" | wc -c)
echo "document: 50 entries, $(curl -s "$url" | wc -c) bytes, $size bytes gzipped, ETag $etag"

echo "== 304 Not Modified (If-None-Match)"
wrk -t2 -c32 -d10s --latency -H "Accept-Encoding: gzip" -H "If-None-Match: $etag" "$url" | grep -E "Requests/sec|50%|99%|Non-2xx"
echo "== 200 with gzip body"
wrk -t2 -c32 -d10s --latency -H "Accept-Encoding: gzip" "$url" | grep -E "Requests/sec|50%|99%|Transfer/sec"
