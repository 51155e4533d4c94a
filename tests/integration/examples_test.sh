#!/usr/bin/env bash
# examples_test: the Python examples (examples/publisher.py and
# examples/escalation_monitor.py) against the real services, over ipc://
# sockets in a temporary directory.
#
#   examples_test.sh INTAKE_BIN [ROUTING_BIN DEADLINE_BIN]
#
# intake alone: petitions submitted plain and over CURVE, resent after a
# restart (all DUPLICATE), an unlisted client refused, the intake feed read
# and resumed from a remembered position. With routing and deadline: the
# monitor receives escalations from the deadline feed after the simulated
# clock moves, and live from the PUB socket. Exits 77 (skipped) when
# /usr/bin/python3 lacks zmq or protobuf, or protoc is missing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
INTAKE_BIN=$1
ROUTING_BIN=${2:-}
DEADLINE_BIN=${3:-}
PY=/usr/bin/python3
if ! $PY -c 'import zmq, google.protobuf' 2>/dev/null || ! command -v protoc >/dev/null; then
	echo "examples_test: skipped (needs python3-zmq, python3-protobuf, protobuf-compiler)"
	exit 77
fi
cd "$ROOT"
tmp=$(mktemp -d /tmp/donthu-examples.XXXXXX)
pids=()
cleanup() {
	local rc=$?
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ $rc -ne 0 ]; then tail -n 5 "$tmp"/*.log 2>/dev/null || true; fi
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
	exit $rc
}
trap cleanup EXIT
fail() { echo "examples_test: FAILED: $*" >&2; exit 1; }

mkdir -p "$tmp/pb2"
protoc --python_out="$tmp/pb2" -I proto proto/donthu/v1/*.proto
export DONTHU_PB2_DIR=$tmp/pb2 DONTHU_LOG=warn,main=notice
scripts/gen-keys "$tmp/keys" >/dev/null
K=$tmp/keys/curve
START=2026-03-10T09:00:00+07:00
RECEIVED=2026-03-10T08:00:00+07:00

wait_ready() { # log name pid [ready lines already in the log]
	local before=${4:-0}
	for _ in $(seq 1 200); do
		[ "$(grep -c "\"$2 ready" "$1" 2>/dev/null)" -gt "$before" ] 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || fail "$2 exited at start-up: $(tail -n 3 "$1")"
		sleep 0.05
	done
	fail "$2 not ready within 10 s"
}

INTAKE_PID=
start_intake() { # [curve]
	local curve=()
	if [ "${1:-}" = curve ]; then
		curve=(DONTHU_INTAKE_CURVE_SECRET_FILE="$K/intake.secret"
		       DONTHU_INTAKE_CURVE_ALLOW_FILE="$K/allow")
	fi
	# The log is appended to across restarts: wait for a new "ready" line.
	local before
	before=$(grep -c '"intake ready' "$tmp/intake.log" 2>/dev/null || true)
	env DONTHU_INTAKE_DATA_DIR="$tmp/intake" DONTHU_INTAKE_LISTEN="ipc://$tmp/submit.sock" \
	    DONTHU_INTAKE_FEED_LISTEN="ipc://$tmp/intake-feed.sock" DONTHU_INTAKE_HTTP_PORT=0 \
	    DONTHU_INTAKE_REGISTER_DIR=data/register DONTHU_INTAKE_IDENTITY_KEYS_DIR="$tmp/keys/identity" \
	    DONTHU_INTAKE_CLOCK=simulated DONTHU_INTAKE_CLOCK_START=$START "${curve[@]}" \
	    "$INTAKE_BIN" 2>>"$tmp/intake.log" &
	INTAKE_PID=$!
	pids+=("$INTAKE_PID")
	wait_ready "$tmp/intake.log" intake "$INTAKE_PID" "${before:-0}"
}
stop_pid() { # pid name
	local rc=0
	kill -TERM "$1"
	wait "$1" || rc=$?
	[ $rc -eq 0 ] || fail "$2 exited with $rc on SIGTERM"
}
publish() { $PY examples/publisher.py --endpoint "ipc://$tmp/submit.sock" --received-at "$RECEIVED" "$@"; }
monitor() { $PY examples/escalation_monitor.py --wait-ms 300 "$@"; }
curve_to() { echo --server-key "$K/$1.public" --public-key "$K/publisher.public" --secret-key "$K/publisher.secret"; }
expect() { # what got wanted
	case $2 in "$3"*) echo "ok: $1: $2" ;; *) fail "$1: got '$2', want '$3...'" ;; esac
}

# --- intake, plain ---------------------------------------------------------
start_intake
out=$(publish --count 20 --run a)
expect "20 petitions" "$out" "accepted=20 duplicate=0 rejected=0"
n=$(monitor --feed "ipc://$tmp/intake-feed.sock" --all-events --timeout 2 --state "$tmp/pos" |
	grep -c "intake petition_received DN-TTR-2026-0000" || true)
[ "$n" -eq 20 ] || fail "the feed reader saw $n petitions, want 20"
[ "$(cat "$tmp/pos")" = 20 ] || fail "remembered position $(cat "$tmp/pos"), want 20"
echo "ok: feed read, position 20 remembered"
stop_pid "$INTAKE_PID" intake

# --- intake, CURVE ---------------------------------------------------------
start_intake curve
# shellcheck disable=SC2046
out=$(publish --count 20 --run a $(curve_to intake))
expect "resent after a restart, over CURVE" "$out" "accepted=0 duplicate=20 rejected=0"
# shellcheck disable=SC2046
out=$(publish --count 5 --run b $(curve_to intake))
expect "5 more over CURVE" "$out" "accepted=5 duplicate=0"
rc=0
out=$(publish --count 1 --run c --timeout 0.5 --attempts 1 2>/dev/null) || rc=$?
[ $rc -eq 3 ] || fail "a plain client got an answer from a CURVE intake (exit $rc: $out)"
echo "ok: a client without CURVE keys gets no answer"
# shellcheck disable=SC2046
out=$(monitor --feed "ipc://$tmp/intake-feed.sock" --all-events --timeout 2 --state "$tmp/pos" \
	$(curve_to intake))
n=$(echo "$out" | grep -c petition_received || true)
[ "$n" -eq 5 ] || fail "resumed feed reader saw $n petitions, want 5: $out"
case $out in "seq=21 "*) ;; *) fail "resumed at '${out%%$'\n'*}', want seq=21" ;; esac
echo "ok: feed reader resumed at 21 over CURVE"
stop_pid "$INTAKE_PID" intake

# --- escalations -----------------------------------------------------------
if [ -z "$DEADLINE_BIN" ] || [ ! -x "$DEADLINE_BIN" ] || [ -z "$ROUTING_BIN" ] || [ ! -x "$ROUTING_BIN" ]; then
	echo "examples_test: donthu-routing/donthu-deadline not built: escalation part skipped"
	exit 0
fi
start_intake
env DONTHU_ROUTING_DATA_DIR="$tmp/routing" DONTHU_ROUTING_FEED_LISTEN="ipc://$tmp/routing-feed.sock" \
    DONTHU_ROUTING_INTAKE_FEED="ipc://$tmp/intake-feed.sock" DONTHU_ROUTING_HTTP_PORT=0 \
    DONTHU_ROUTING_REGISTER_DIR=data/register DONTHU_ROUTING_RULES_FILE=data/routing/rules.json \
    DONTHU_ROUTING_CLOCK=simulated DONTHU_ROUTING_CLOCK_START=$START \
    "$ROUTING_BIN" 2>>"$tmp/routing.log" &
pids+=($!)
wait_ready "$tmp/routing.log" routing $!
env DONTHU_DEADLINE_DATA_DIR="$tmp/deadline" DONTHU_DEADLINE_FEED_LISTEN="ipc://$tmp/deadline-feed.sock" \
    DONTHU_DEADLINE_PUB_LISTEN="ipc://$tmp/deadline-pub.sock" DONTHU_DEADLINE_HTTP_PORT=0 \
    DONTHU_DEADLINE_INTAKE_FEED="ipc://$tmp/intake-feed.sock" \
    DONTHU_DEADLINE_ROUTING_FEED="ipc://$tmp/routing-feed.sock" \
    DONTHU_DEADLINE_CALENDAR_DIR=data/calendar DONTHU_DEADLINE_POLICY_FILE=data/policy/deadline-policy.json \
    DONTHU_DEADLINE_CLOCK=simulated DONTHU_DEADLINE_CLOCK_START=$START \
    "$DEADLINE_BIN" 2>>"$tmp/deadline.log" &
pids+=($!)
wait_ready "$tmp/deadline.log" deadline $!

advance_days() { # every service's simulated clock, through its admin socket
	local s
	for s in intake routing deadline; do
		$PY - "$tmp/$s/admin.sock" "$1" <<'PY' || fail "clock advance on $s"
import sys, zmq
sys.path.insert(0, "examples")
import donthu_proto
ENV, _T, _I, _E = donthu_proto.load()
env = ENV.Envelope(schema_version=1, producer="examples_test")
env.clock.advance_ms = int(sys.argv[2]) * 86400 * 1000
s = zmq.Context().socket(zmq.DEALER)
s.linger = 0
s.connect("ipc://" + sys.argv[1])
s.send(env.SerializeToString())
if not s.poll(10000):
    sys.exit("no answer")
r = ENV.Envelope()
r.ParseFromString(s.recv())
sys.exit(0 if r.control_reply.ok else "refused: %s" % r.control_reply.error)
PY
	done
}

# Pull: the 25 petitions' clocks run out 60 days later; the monitor gets
# escalations from the deadline feed, then resumes after the first one.
advance_days 60
out=$(monitor --feed "ipc://$tmp/deadline-feed.sock" --count 1 --timeout 30 --state "$tmp/dpos")
expect "first escalation from the feed" "$out" "seq="
first=$(cat "$tmp/dpos")
out=$(monitor --feed "ipc://$tmp/deadline-feed.sock" --count 1 --timeout 30 --state "$tmp/dpos")
seq=${out#seq=}; seq=${seq%% *}
[ "$seq" -gt "$first" ] || fail "resumed monitor repeated sequence $seq (position was $first)"
echo "ok: escalation monitor resumed after $first with $seq"
out=$(monitor --feed "ipc://$tmp/deadline-feed.sock" --from-seq 1 --level chairman --count 1 --timeout 30)
expect "filtered by level" "$out" "seq="
case $out in *" chairman "*) ;; *) fail "--level chairman printed: $out" ;; esac

# Live: subscribe first, then make new escalations happen.
monitor --live --live-endpoint "ipc://$tmp/deadline-pub.sock" --count 1 --timeout 30 \
	> "$tmp/live.out" 2> "$tmp/live.err" &
live=$!
pids+=("$live")
sleep 1   # a SUB socket only receives once its subscription reached the PUB
RECEIVED=2026-05-09T08:00:00+07:00
out=$(publish --count 3 --run late)
expect "3 late petitions" "$out" "accepted=3"
advance_days 60
rc=0
wait "$live" || rc=$?
[ $rc -eq 0 ] || fail "live monitor got no escalation (exit $rc): $(cat "$tmp/live.err")"
expect "live escalation" "$(cat "$tmp/live.out")" "seq="
echo "examples_test: passed"
