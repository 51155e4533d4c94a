#!/usr/bin/env bash
# A producer restored from an older copy appends different events at
# sequence numbers its consumer has already applied. The consumer must refuse
# to go on (and say so) instead of skipping the producer's new events.
set -euo pipefail
FT=$1
tmp=$(mktemp -d /tmp/donthu-diverge.XXXXXX)
ep="ipc://$tmp/feed.sock"
trap 'kill -9 $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

# 500 events, then a copy of the producer's store (the "old backup").
"$FT" produce "$tmp/p" "$ep" 500 500 1 2>/dev/null & p=$!
"$FT" consume "$tmp/c" "$ep" 500 2>/dev/null
kill -TERM $p; wait $p
cp -a "$tmp/p" "$tmp/p-old"
# 500 more, applied by the consumer: it is now at 1000.
"$FT" produce "$tmp/p" "$ep" 1000 500 1 2>/dev/null & p=$!
"$FT" consume "$tmp/c" "$ep" 1000 2>/dev/null
kill -TERM $p; wait $p
# Restore the old producer store; it appends 501..1500 anew (other events).
rm -rf "$tmp/p"; mv "$tmp/p-old" "$tmp/p"
"$FT" produce "$tmp/p" "$ep" 1500 100 20 2>/dev/null & p=$!
"$FT" consume "$tmp/c" "$ep" 1500 2>"$tmp/c.log" & c=$!
for _ in $(seq 1 100); do
  grep -q "no longer has the event" "$tmp/c.log" && break
  sleep 0.1
done
kill -9 $c 2>/dev/null || true; wait $c 2>/dev/null || true
kill -TERM $p; wait $p || true
grep -q "no longer has the event 1000" "$tmp/c.log" || { echo "feed_diverge: consumer did not refuse"; cat "$tmp/c.log" | tail -5; exit 1; }
# It applied nothing of the other history.
"$FT" verify "$tmp/c" 1000
echo "feed_diverge: the consumer refused the diverged producer and applied nothing from it"
