#!/usr/bin/env bash
# donthuctl_test: scripts/donthuctl runs the built services as plain processes.
#
#   donthuctl_test.sh BUILD_DIR
#
# Every endpoint is moved to ipc:// in a temporary directory and every HTTP
# port to a free one on 127.0.0.1 through DONTHU_<SVC>_<KEY> overrides (which
# donthuctl passes on and reads back for /healthz). Checks: first start writes
# the configuration and keys; status; a submission reaches intake; stop and
# start of one service; logs; a stale PID file is never signalled; a service
# that cannot start is reported with its log; stop ends every service with
# exit 0 (its "stopped" log line). Exits 77 without /usr/bin/python3 + zmq.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$1
PY=/usr/bin/python3
$PY -c 'import zmq, google.protobuf' 2>/dev/null && command -v protoc >/dev/null && command -v curl >/dev/null ||
	{ echo "donthuctl_test: skipped (needs python3-zmq, python3-protobuf, protoc, curl)"; exit 77; }
cd "$ROOT"
tmp=$(mktemp -d /tmp/donthu-ctl.XXXXXX)
B=$tmp/run
CTL=(scripts/donthuctl --base "$B" --bin "$BUILD" --simulated 2026-03-10T09:00:00+07:00 --timeout 20)
cleanup() {
	local rc=$?
	"${CTL[@]}" stop >/dev/null 2>&1 || true
	[ -n "${sleeper:-}" ] && kill "$sleeper" 2>/dev/null
	if [ $rc -ne 0 ]; then tail -n 5 "$B"/log/*.log 2>/dev/null || true; fi
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
	exit $rc
}
trap cleanup EXIT
fail() { echo "donthuctl_test: FAILED: $*" >&2; exit 1; }

present=()
for s in intake routing deadline report; do
	[ -x "$BUILD/services/$s/donthu-$s" ] && present+=("$s")
done
[ "${present[0]:-}" = intake ] || fail "no donthu-intake under $BUILD"
read -r p1 p2 p3 p4 < <($PY -c '
import socket
ss = [socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
export DONTHU_LOG=warn,main=notice
export DONTHU_INTAKE_LISTEN=ipc://$tmp/submit.sock DONTHU_INTAKE_FEED_LISTEN=ipc://$tmp/intake.sock
export DONTHU_INTAKE_HTTP_PORT=$p1
export DONTHU_ROUTING_FEED_LISTEN=ipc://$tmp/routing.sock DONTHU_ROUTING_INTAKE_FEED=ipc://$tmp/intake.sock
export DONTHU_ROUTING_HTTP_PORT=$p2
export DONTHU_DEADLINE_FEED_LISTEN=ipc://$tmp/deadline.sock DONTHU_DEADLINE_PUB_LISTEN=ipc://$tmp/pub.sock
export DONTHU_DEADLINE_INTAKE_FEED=ipc://$tmp/intake.sock DONTHU_DEADLINE_ROUTING_FEED=ipc://$tmp/routing.sock
export DONTHU_DEADLINE_HTTP_PORT=$p3
export DONTHU_REPORT_LISTEN=ipc://$tmp/report.sock DONTHU_REPORT_INTAKE_FEED=ipc://$tmp/intake.sock
export DONTHU_REPORT_ROUTING_FEED=ipc://$tmp/routing.sock DONTHU_REPORT_DEADLINE_FEED=ipc://$tmp/deadline.sock
export DONTHU_REPORT_HTTP_PORT=$p4

# First start: configuration, keys, every present service healthy.
out=$("${CTL[@]}" start 2>&1) || fail "start: $out"
echo "$out"
for s in "${present[@]}"; do
	[ -f "$B/etc/$s.conf" ] || fail "no $B/etc/$s.conf"
	grep -q "^data_dir = $B/data/$s\$" "$B/etc/$s.conf" || fail "$s.conf has no data_dir in $B/data"
	echo "$out" | grep -q "^$s: running (pid [0-9]*)" || fail "$s did not start"
done
[ -f "$B/keys/identity/1.key" ] && [ -f "$B/keys/curve/allow" ] || fail "keys not made"
out=$("${CTL[@]}" status) || fail "status exit $? after start: $out"
for s in "${present[@]}"; do
	echo "$out" | grep -q "^$s  *running  pid [0-9]*  *healthy" || fail "status: $out"
done
echo "ok: started ${present[*]}, configuration and keys written, all healthy"

# The processes are real: a petition is accepted.
export DONTHU_PB2_DIR=$tmp/pb2
mkdir -p "$DONTHU_PB2_DIR"
protoc --python_out="$DONTHU_PB2_DIR" -I proto proto/donthu/v1/*.proto
out=$($PY examples/publisher.py --endpoint "ipc://$tmp/submit.sock" --count 3 \
	--received-at 2026-03-10T08:00:00+07:00)
case $out in "accepted=3 "*) echo "ok: $out" ;; *) fail "publisher: $out" ;; esac

# One service stopped and started again; the others untouched.
before=$(cat "$B/pid/intake.pid")
"${CTL[@]}" stop intake | grep -q "^intake: stopped (pid $before)" || fail "stop intake"
rc=0; out=$("${CTL[@]}" status) || rc=$?
[ $rc -eq 3 ] || fail "status with intake stopped exited $rc, want 3"
echo "$out" | grep -q "^intake  *stopped" || fail "status: $out"
out=$("${CTL[@]}" start 2>&1) || fail "second start: $out"
echo "$out" | grep -q "^intake: running" || fail "intake not restarted: $out"
[ ${#present[@]} -lt 2 ] || echo "$out" | grep -q "^${present[1]}: already running" ||
	fail "${present[1]} restarted: $out"
[ "$(cat "$B/pid/intake.pid")" != "$before" ] || fail "intake PID unchanged"
echo "ok: intake stopped alone (status exit 3) and started again"

"${CTL[@]}" logs -n 1 intake | grep -q '"svc":"intake"' || fail "logs intake"
echo "ok: logs"

# A PID file naming some other process: reported stopped, never signalled.
"${CTL[@]}" stop intake >/dev/null
sleep 300 &
sleeper=$!
echo "$sleeper" > "$B/pid/intake.pid"
out=$("${CTL[@]}" status intake) || true
echo "$out" | grep -q "^intake  *stopped" || fail "stale PID shown as running: $out"
"${CTL[@]}" stop intake >/dev/null
kill -0 "$sleeper" 2>/dev/null || fail "stop signalled a process that is not intake"
kill "$sleeper"; wait "$sleeper" 2>/dev/null || true; sleeper=
echo "ok: a stale PID file is not trusted"

# A service that cannot start: non-zero exit and its reason.
rc=0
out=$(DONTHU_INTAKE_BATCH_MAX=0 "${CTL[@]}" start intake 2>&1) || rc=$?
[ $rc -eq 1 ] || fail "start with a bad batch_max exited $rc: $out"
echo "$out" | grep -q "batch_max" || fail "start failure does not show the reason: $out"
echo "ok: a start-up failure is reported with the service's reason"

# Stop everything: every service exits on SIGTERM and logs it.
"${CTL[@]}" start >/dev/null 2>&1 || fail "start after failure"
out=$("${CTL[@]}" stop) || fail "stop: $out"
for s in "${present[@]}"; do
	echo "$out" | grep -q "^$s: stopped" || fail "stop: $out"
	[ ! -f "$B/pid/$s.pid" ] || fail "$s.pid left behind"
	tail -n 1 "$B/log/$s.log" | grep -q "\"$s stopped\"" || fail "$s did not stop cleanly"
done
rc=0; "${CTL[@]}" status >/dev/null || rc=$?
[ $rc -eq 3 ] || fail "status after stop exited $rc, want 3"
echo "donthuctl_test: passed (${present[*]})"
