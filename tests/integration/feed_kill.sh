#!/usr/bin/env bash
# The feed under fire: a real producer and a real consumer process; 100,000
# events; the consumer is SIGKILLed at random moments (at least 20 times) and
# restarted, the producer once; at the end every event was applied exactly
# once and in order.
set -euo pipefail
FEEDTOOL=$1
TOTAL=${TOTAL:-100000}
KILLS=${KILLS:-20}
tmp=$(mktemp -d /tmp/donthu-feedkill.XXXXXX)
ep="ipc://$tmp/feed.sock"
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

# ~1,000 events per 60 ms: production lasts ~6 s, so kills land mid-stream.
start_producer() { "$FEEDTOOL" produce "$tmp/p" "$ep" "$TOTAL" 1000 60 2>>"$tmp/p.log" & ppid=$!; pids+=("$ppid"); }
start_consumer() { "$FEEDTOOL" consume "$tmp/c" "$ep" "$TOTAL" 300 2>>"$tmp/c.log" & cpid=$!; pids+=("$cpid"); }

start_producer
start_consumer
kills=0
producer_killed=0
while [ $kills -lt "$KILLS" ]; do
  sleep "0.$(( (RANDOM % 25) + 5 ))"
  if ! kill -0 "$cpid" 2>/dev/null; then
    # The consumer finished before we were done killing: that is fine only
    # if the producer had produced everything; restart to keep killing.
    wait "$cpid" || true
  else
    kill -9 "$cpid"; wait "$cpid" 2>/dev/null || true
  fi
  kills=$((kills + 1))
  if [ $kills -eq $((KILLS / 2)) ] && [ $producer_killed -eq 0 ]; then
    kill -9 "$ppid"; wait "$ppid" 2>/dev/null || true
    producer_killed=1
    start_producer
  fi
  start_consumer
done
echo "feed_kill: $kills consumer kills, $producer_killed producer kill"
# Let the last consumer finish (bounded).
for _ in $(seq 1 600); do
  kill -0 "$cpid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$cpid" 2>/dev/null; then
  echo "feed_kill: consumer did not finish"; tail -20 "$tmp/c.log"; exit 1
fi
wait "$cpid" || { echo "feed_kill: consumer failed"; tail -20 "$tmp/c.log"; exit 1; }
kill -TERM "$ppid"; wait "$ppid" || { echo "feed_kill: producer exit non-zero"; tail -20 "$tmp/p.log"; exit 1; }
if grep -q "applied twice\|out of order" "$tmp/c.log"; then
  echo "feed_kill: duplicate or out-of-order application seen"; grep -m5 "twice\|order" "$tmp/c.log"; exit 1
fi
"$FEEDTOOL" verify "$tmp/c" "$TOTAL"
