#!/usr/bin/env bash
# What near merging adds to ingest, counted in instructions: the near bench's single ingest of
# the corpus with feeds of realistic size (`--one`), run under callgrind without and with near
# merging, less what comes before the ingest (`--one setup`). Instruction counts repeat from run
# to run where wall times on a shared machine move by ±10 %, all but the text index's thread,
# whose batching moves with timing (so the second figure holds it equal). They leave out cache
# misses and waiting for the disk: read them beside the near bench's wall times.
#
# Run: bash benches/near-instructions.sh [PAIRS_PER_KIND SINGLES]   (defaults 30 and 3, about
# 3,700 items: a few minutes; needs valgrind). The callgrind profiles are kept for
# callgrind_annotate; the script prints where.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is not installed: apt-get install -y valgrind" >&2; exit 1; }
pairs=${1:-30}
singles=${2:-3}

bench=$(cargo bench --locked --bench near --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "near":
        print(m["executable"])')
dir=$(mktemp -d)
echo "profiles in $dir"

# Instructions of a whole run, and of the text index's thread alone.
count() {
  valgrind --tool=callgrind --callgrind-out-file="$dir/$1.out" "$bench" "$pairs" "$singles" --one "$1" \
    2>"$dir/$1.log" >/dev/null
  total=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$dir/$1.log")
  text=$(callgrind_annotate --inclusive=yes "$dir/$1.out" 2>/dev/null |
    awk '/text_thread::Indexer::run / { gsub(",", "", $1); print $1; exit }')
  echo "$total ${text:-0}"
}

python3 - $(count setup) $(count without) $(count with) <<'PY'
import sys
setup, _, without, without_text, with_, with_text = map(int, sys.argv[1:])
a, b = without - setup, with_ - setup
print(f"ingest instructions: without near merging {a / 1e9:.2f} G, with {b / 1e9:.2f} G: {100 * b / a:.1f} % of the ingest without")
# The text index's thread takes what waits in batches whose sizes depend on timing, so its
# count moves by a few per cent from run to run; it indexes the same texts either way.
held = a + (b - with_text) - (a - without_text)
print(f"  with the text index's thread held equal (its batching moves with timing): {100 * held / a:.1f} %")
PY
