#!/usr/bin/env bash
# `donthu admin backup` is not bounded by --rpc-timeout: a copy that takes
# longer than it still succeeds, a copy that outlives --backup-timeout is
# reported as such (not as a service that did not answer), and a service that
# does not answer its status request is DOWN. The slow copies come from
# backup_fake (it answers a backup only when told to: no store is reliably
# slow), the rest from a real donthu-intake. ipc:// sockets in a temp folder.
#
#   backup_cli.sh DONTHU INTAKE BACKUP_FAKE REPO_ROOT
set -uo pipefail
DONTHU=$1
INTAKE=$2
FAKE=$3
R=$4

T=$(mktemp -d /tmp/donthu-backup-cli.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
	if [ -z "${KEEP_TMP:-}" ]; then rm -rf "$T"; else echo "kept $T"; fi
}
trap cleanup EXIT

fails=0
OUT=$T/out
ERR=$T/err
FAKE_EP="ipc://$T/fake-admin.sock"
# Every socket in $T: nothing of a real installation is ever reached.
CLI=("$DONTHU" --data-dir "$T" --rpc-timeout 1 --admin "report=$FAKE_EP")

. "$(dirname "${BASH_SOURCE[0]}")/check.sh"

# start_fake MODE [RELEASE_FILE]: backup_fake as report's admin socket.
fake_pid=
start_fake() {
	# Removed here, not by the redirection: that runs in the child, and the
	# loop below could still read the previous fake's "ready" (seen in CI).
	rm -f "$T/fake.out"
	"$FAKE" "$FAKE_EP" "$@" >"$T/fake.out" 2>"$T/fake.err" &
	fake_pid=$!
	pids+=("$fake_pid")
	for _ in $(seq 1 100); do
		grep -q ready "$T/fake.out" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "FAIL: backup_fake did not start"; cat "$T/fake.err"
	exit 1
}
stop_fake() {
	kill -TERM "$fake_pid" 2>/dev/null
	wait "$fake_pid" 2>/dev/null
}

# ------------------------------------------ a copy longer than the RPC wait ---
# The fake holds the backup's answer until $T/release exists. The CLI must be
# still waiting once --rpc-timeout (1 s) is long past, and succeed after.
for bt in "" 0; do
	what="default --backup-timeout"
	args=()
	if [ -n "$bt" ]; then what="--backup-timeout 0"; args=(--backup-timeout "$bt"); fi
	rm -f "$T/release"
	start_fake hold "$T/release"
	"${CLI[@]}" admin backup "$T/bk-slow$bt" --service report "${args[@]}" >"$OUT" 2>"$ERR" &
	cli=$!
	pids+=("$cli")
	sleep 3
	if ! kill -0 "$cli" 2>/dev/null; then
		wait "$cli"
		fail "$what: the CLI gave up (exit $?) on a copy still running after 3 s"
	else
		touch "$T/release"
		wait "$cli"
		rc=$?
		if [ "$rc" -ne 0 ]; then
			fail "$what: slow copy: exit $rc, want 0"
		else
			echo "ok: $what: a copy longer than --rpc-timeout succeeds"
			has "$OUT" "copied" "$what: slow copy row"
			has "$OUT" "$T/bk-slow$bt/report" "$what: slow copy names its folder"
		fi
	fi
	stop_fake
done

# ------------------------------------------------ a copy that outlives the wait ---
start_fake never
run 1 "a copy not finished within --backup-timeout" \
	"${CLI[@]}" admin backup "$T/bk-never" --service report --backup-timeout 1
has "$OUT" "TIMEOUT" "timed-out row"
has "$ERR" "service report did not finish the backup within 1 s; it may still be writing $T/bk-never/report — check its log" \
	"timed-out message"
if grep -qF "no service answered" "$ERR"; then fail "a timed-out copy was reported as no answer"; fi
stop_fake

# ---------------------------------------- a service that answers nothing ---
start_fake silent
run 3 "a service that does not answer its status request" \
	"${CLI[@]}" admin backup "$T/bk-silent" --service report
has "$OUT" "DOWN" "silent service row"
has "$ERR" "report did not answer a status request on $FAKE_EP within 1 s" "silent message"
has "$ERR" "its store is NOT in $T/bk-silent" "silent: says the store is missing"
stop_fake

run 3 "nothing listens on the admin socket" \
	"${CLI[@]}" admin backup "$T/bk-none" --service report
has "$OUT" "nothing listens on $FAKE_EP" "no socket row"
has "$ERR" "Those stores are NOT in $T/bk-none" "no socket message"

run 2 "--backup-timeout must be a number" \
	"${CLI[@]}" admin backup "$T/bk-usage" --service report --backup-timeout soon

# ------------------------------------------------------ the real service ---
mkdir -p "$T/keys"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/keys/1.key"
echo >>"$T/keys/1.key"
env DONTHU_INTAKE_DATA_DIR="$T/intake" DONTHU_INTAKE_LISTEN="ipc://$T/submit.sock" \
	DONTHU_INTAKE_FEED_LISTEN="ipc://$T/intake-feed.sock" DONTHU_INTAKE_HTTP_PORT=0 \
	DONTHU_INTAKE_REGISTER_DIR="$R/data/register" DONTHU_INTAKE_IDENTITY_KEYS_DIR="$T/keys" \
	DONTHU_LOG=notice "$INTAKE" 2>"$T/intake.log" &
intake_pid=$!
pids+=("$intake_pid")
up=
for _ in $(seq 1 100); do
	"${CLI[@]}" status --service intake --intake-feed "ipc://$T/intake-feed.sock" \
		>/dev/null 2>&1 && up=1 && break
	sleep 0.1
done
[ -n "$up" ] || { echo "FAIL: intake did not start"; cat "$T/intake.log"; exit 1; }

run 0 "backup of a real store with --rpc-timeout 1" \
	"${CLI[@]}" admin backup "$T/bk" --service intake
[ -s "$T/bk/intake/data.mdb" ] || fail "backup wrote bk/intake/data.mdb"
has "$T/intake.log" "backup into $T/bk/intake started" "intake logged the start"
has "$T/intake.log" "backup written to $T/bk/intake" "intake logged the end"
run 1 "a second backup into the same folder is refused" \
	"${CLI[@]}" admin backup "$T/bk" --service intake
has "$OUT" "$T/bk/intake already holds a backup" "same-folder refusal says why"

kill -TERM "$intake_pid"
wait "$intake_pid" || fail "intake did not exit cleanly"

if [ "$fails" -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all backup CLI checks passed"
