#!/usr/bin/env bash
# Soak: the daemon for MINUTES (default 60) polling 50 feeds that change on every poll, every
# 10 s, from nginx on 50 loopback hosts, while 4 connections read an output without pause and
# the config is reloaded (SIGHUP) every 3 minutes. Samples the daemon's RSS every 10 s and
# prints: requests, errors and latency (wrk), polls, RSS after warm-up (the first sixth of the
# run, at least 2 minutes) and the drift over the last half (max − min there).
#
# Run: bash benches/soak.sh [MINUTES]   (needs nginx, wrk, python3: apt-get install -y nginx
# wrk python3; builds the release binary). The RSS samples are left in $SOAK_CSV if set.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in nginx wrk python3; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 1; }
done
minutes=${1:-60}
cargo build --release --locked --quiet

dir=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
cleanup() {
  kill "$daemon" "$writer" "$hup" 2>/dev/null || true
  nginx -s stop -c "$dir/nginx.conf" -p "$dir" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
mkdir -p "$dir/www" "$dir/tmp"
chmod 755 "$dir" "$dir/www"  # nginx's workers drop to an unprivileged user

listens=$(for h in $(seq 1 50); do echo "    listen 127.0.2.$h:$port;"; done)
cat > "$dir/nginx.conf" <<CONF
daemon on; worker_processes 1; pid $dir/nginx.pid; error_log $dir/error.log;
events { worker_connections 1024; }
http {
  access_log off; client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp;
  fastcgi_temp_path $dir/tmp; uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp;
  types { application/rss+xml rss; }
  server {
$listens
    root $dir/www; etag on;
  }
}
CONF

# Every 5 s each feed gains a story (20 newest kept, ~2 KB of HTML each): every 10 s poll
# finds something new.
python3 - "$dir/www" <<'PY' &
import os, random, sys, time
www, rng, n = sys.argv[1], random.Random(7), 0
words = [f"w{i}" for i in range(3000)]
stories = {f: [] for f in range(50)}
while True:
    for f, items in stories.items():
        n += 1
        text = "".join(f"<p>{' '.join(rng.choices(words, k=60))}</p>" for _ in range(5))
        items.insert(0, f"<item><guid>s{f}-{n}</guid><title>Story {n} of feed {f}</title>"
                        f"<link>https://site{f}.example/{n}</link>"
                        f"<description><![CDATA[{text}<p>#soak</p>]]></description></item>")
        del items[20:]
        body = f"<rss version=\"2.0\"><channel><title>Feed {f}</title>{''.join(items)}</channel></rss>"
        tmp = os.path.join(www, f"feed{f}.rss.tmp")
        with open(tmp, "w") as out:
            out.write(body)
        os.replace(tmp, os.path.join(www, f"feed{f}.rss"))
    time.sleep(5)
PY
writer=$!
sleep 1
nginx -c "$dir/nginx.conf" -p "$dir"

{
  printf '[fetch]\ninterval = "10s"\nmin_interval = "10s"\nper_host_delay = "0s"\n\n'
  printf '[server]\nlisten = "127.0.0.1:%d"\n\n' "$port"
  for f in $(seq 0 49); do
    printf '[[feed]]\nname = "feed%d"\nurl = "http://127.0.2.%d:%d/feed%d.rss"\n' "$f" $((f + 1)) "$port" "$f"
  done
  printf '[[output]]\nname = "soak"\nfilter = "#soak"\nlimit = 50\n'
} > "$dir/feedsift.toml"

RUST_LOG=warn "${CARGO_TARGET_DIR:-target}/release/feedsift" run -c "$dir/feedsift.toml" > "$dir/daemon.log" 2>&1 &
daemon=$!
url="http://127.0.0.1:$port/feeds/soak.atom"
for _ in $(seq 1 100); do curl -sf "$url" -o /dev/null && break; sleep 0.1; done
curl -sf "$url" -o /dev/null || { echo "the daemon did not start:" >&2; cat "$dir/daemon.log" >&2; exit 1; }

(while sleep 180; do kill -HUP "$daemon"; done) &
hup=$!

csv=${SOAK_CSV:-$dir/rss.csv}
(
  start=$(date +%s)
  while kill -0 "$daemon" 2>/dev/null; do
    echo "$(($(date +%s) - start)),$(awk '/VmRSS/ {print $2}' "/proc/$daemon/status")"
    sleep 10
  done
) > "$csv" &

wrk -t2 -c4 -d"${minutes}m" --timeout 5s --latency -H "Accept-Encoding: gzip" "$url" > "$dir/wrk.txt"
grep -E "requests in|Socket errors|Non-2xx|50%|99%" "$dir/wrk.txt"
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^feedsift_polls_total' || true
echo "daemon log lines at WARN or above: $(wc -l < "$dir/daemon.log")"
python3 - "$csv" "$minutes" <<'PY'
import sys
rows = [tuple(map(int, line.split(","))) for line in open(sys.argv[1]) if line.count(",") == 1]
total = int(sys.argv[2]) * 60
warm = min(max(120, total // 6), total // 2)
after = [kb for t, kb in rows if t >= warm]
last = [kb for t, kb in rows if t >= total // 2]
print(f"RSS samples: {len(rows)}; at start {rows[0][1] / 1024:.1f} MiB, "
      f"after warm-up ({warm} s) {after[0] / 1024:.1f} MiB, at the end {rows[-1][1] / 1024:.1f} MiB")
print(f"last half: min {min(last) / 1024:.1f} MiB, max {max(last) / 1024:.1f} MiB, "
      f"drift {(max(last) - min(last)) / 1024:.1f} MiB")
PY
