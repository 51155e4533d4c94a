#!/usr/bin/env bash
# The donthu CLI against the real donthu-intake (ipc:// sockets in a temp
# folder, simulated clock) and, for watch/case/report, against cli_fake, a
# stand-in deadline and report service with known content (cli_fake.c).
#
#   cli_test.sh DONTHU DONTHU_INTAKE CLI_FAKE DATA_DIR
set -uo pipefail
DONTHU=$1
INTAKE=$2
FAKE=$3
DATA=$4

T=$(mktemp -d /tmp/donthu-cli.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
	if [ -z "${KEEP_TMP:-}" ]; then rm -rf "$T"; else echo "kept $T"; fi
}
trap cleanup EXIT

fails=0
OUT=$T/out
ERR=$T/err
CLI=("$DONTHU" --data-dir "$T" --rpc-timeout 3
	--intake "ipc://$T/submit.sock" --intake-feed "ipc://$T/intake-feed.sock"
	--routing "ipc://$T/no-routing.sock" --deadline "ipc://$T/no-deadline.sock"
	--deadline-pub "ipc://$T/no-pub.sock" --report "ipc://$T/no-report.sock")
# The same, with the fake deadline and report service.
FCLI=("${CLI[@]}" --deadline "ipc://$T/f-feed.sock" --deadline-pub "ipc://$T/f-pub.sock"
	--report "ipc://$T/f-report.sock")

fail() {
	echo "FAIL: $*"
	echo "--- stdout"; head -40 "$OUT"
	echo "--- stderr"; head -20 "$ERR"
	fails=$((fails + 1))
}

# run WANT_RC DESCRIPTION CMD...   (stdin is inherited)
run() {
	local want=$1 desc=$2 rc
	shift 2
	"$@" >"$OUT" 2>"$ERR"
	rc=$?
	if [ "$rc" -ne "$want" ]; then fail "$desc: exit $rc, want $want"; return 1; fi
	echo "ok: $desc"
}

# has FILE PATTERN DESCRIPTION   (fixed string)
has() {
	if ! grep -qF -- "$2" "$1"; then fail "$3: no \"$2\""; return 1; fi
}
hasnt() {
	if grep -qF -- "$2" "$1"; then fail "$3: unexpected \"$2\""; return 1; fi
}

# ------------------------------------------------------------ intake up ---
mkdir -p "$T/keys"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/keys/1.key"
echo >>"$T/keys/1.key"
env DONTHU_INTAKE_DATA_DIR="$T/intake" DONTHU_INTAKE_LISTEN="ipc://$T/submit.sock" \
	DONTHU_INTAKE_FEED_LISTEN="ipc://$T/intake-feed.sock" DONTHU_INTAKE_HTTP_PORT=0 \
	DONTHU_INTAKE_REGISTER_DIR="$DATA/register" DONTHU_INTAKE_IDENTITY_KEYS_DIR="$T/keys" \
	DONTHU_INTAKE_CLOCK=simulated DONTHU_INTAKE_CLOCK_START=2026-03-10T09:00:00+07:00 \
	DONTHU_LOG=warn "$INTAKE" 2>"$T/intake.log" &
intake_pid=$!
pids+=("$intake_pid")
for _ in $(seq 1 100); do
	"${CLI[@]}" status --service intake >/dev/null 2>&1 && break
	sleep 0.1
done

# ---------------------------------------------------------------- usage ---
run 2 "no command" "$DONTHU"
run 2 "unknown command" "$DONTHU" frobnicate
has "$ERR" "unknown command" "unknown command"
run 0 "--version" "$DONTHU" --version
run 0 "top-level --help" "$DONTHU" --help
for c in "submit" "case show" "case history" "case explain" "case list" "watch" "report" \
	"status" "admin reload" "admin clock" "admin reveal" "admin backup"; do
	# shellcheck disable=SC2086
	run 0 "$c --help" "$DONTHU" $c --help && has "$OUT" "usage: donthu $c" "$c --help" &&
		has "$OUT" "Exit codes:" "$c --help"
done
run 2 "submit without a file" "${CLI[@]}" submit
run 2 "submit a missing file" "${CLI[@]}" submit "$T/nope.json"
has "$ERR" "cannot open" "submit a missing file"
run 2 "unknown option" "${CLI[@]}" submit --frob x.json
run 2 "bad --window" "${CLI[@]}" submit --window 0 x.json

# --------------------------------------------------------------- status ---
run 0 "status of intake" "${CLI[@]}" status --service intake
has "$OUT" "(simulated)" "status shows the simulated clock"
grep -qE '^intake +ok' "$OUT" || fail "status: intake not ok"
run 3 "status of all, three down" "${CLI[@]}" status
grep -qE '^routing +DOWN' "$OUT" || fail "status: routing not DOWN"
run 3 "status --json, three down" "${CLI[@]}" status --json
[ "$(grep -c '"reachable":false' "$OUT")" -eq 3 ] || fail "status --json: 3 unreachable"

# --------------------------------------------------------------- submit ---
P='"channel":"PORTAL","received_at_ms":"2026-03-09T10:00:00+07:00","kind":"FEEDBACK","signer_count":1,"signed":true'
person() { echo "{\"full_name\":\"$1\",\"id_kind\":\"$2\",\"id_number\":\"$3\",\"address\":\"12 Lê Duẩn, Hải Châu\"}"; }
good1="{\"key\":{\"source_system\":\"test.cli\",\"source_id\":\"g-1\"},\"petition\":{$P,\"receiving_agency\":\"DN-TTR\",\"summary\":\"Đường ngập nước\",\"petitioners\":[$(person 'Nguyễn Văn An' CCCD 048090000123)]}}"
good2="{\"key\":{\"source_system\":\"test.cli\",\"source_id\":\"g-2\"},\"petition\":{$P,\"receiving_agency\":\"DN-TTR\",\"summary\":\"Đèn đường hỏng\",\"petitioners\":[$(person 'Trần Thị Bình' CCCD 048090000124)]}}"
good3="{\"key\":{\"source_system\":\"test.cli\",\"source_id\":\"g-3\"},\"petition\":{$P,\"receiving_agency\":\"DN-SXD\",\"summary\":\"Công trình xây dựng gây ồn\",\"petitioners\":[$(person 'Lê Văn Cường' CCCD 048090000125)]}}"
bad_agency="{\"key\":{\"source_system\":\"test.cli\",\"source_id\":\"b-1\"},\"petition\":{$P,\"receiving_agency\":\"NO-SUCH\",\"summary\":\"x\",\"petitioners\":[$(person 'Phạm D' CCCD 048090000126)]}}"
bad_enum="{\"key\":{\"source_system\":\"test.cli\",\"source_id\":\"b-2\"},\"petition\":{$P,\"receiving_agency\":\"DN-TTR\",\"summary\":\"y\",\"petitioners\":[$(person 'Võ E' CCCDD 048090000127)]}}"
printf '[\n%s,\n%s,\n%s,\n%s,\n%s\n]\n' "$good1" "$good2" "$bad_agency" "$good3" "$bad_enum" >"$T/mixed.json"
printf '[\n%s,\n%s,\n%s\n]\n' "$good1" "$good2" "$good3" >"$T/good.json"

run 1 "submit a file with good and bad objects" "${CLI[@]}" submit "$T/mixed.json"
has "$OUT" "5 objects from 1 file: 3 accepted, 0 duplicate, 2 rejected, 0 unavailable" "summary"
grep -qE "mixed.json:4 +unknown_agency +petition.receiving_agency" "$OUT" ||
	fail "rejection by intake names line 4, code and field"
grep -qE "mixed.json:6 +invalid_json +petition.petitioners\[0\].id_kind +unknown value \"CCCDD\"" "$OUT" ||
	fail "malformed object names line 6 and the pbjson path"

run 1 "resubmit: the good ones are duplicates" "${CLI[@]}" submit "$T/mixed.json" -v
has "$OUT" "0 accepted, 3 duplicate, 2 rejected" "resubmit summary"
case_no=$(awk '$1 ~ /mixed.json:2$/ {print $3}' "$OUT")
[ -n "$case_no" ] || fail "verbose output names the case of line 2"
run 0 "resubmit only good ones: all duplicate, exit 0" "${CLI[@]}" submit "$T/good.json"
has "$OUT" "3 objects from 1 file: 0 accepted, 3 duplicate, 0 rejected" "all duplicate"

run 0 "--json prints each answer" "${CLI[@]}" submit --json "$T/good.json"
[ "$(grep -c '"status":"SUBMIT_STATUS_DUPLICATE"' "$OUT")" -eq 3 ] || fail "--json: 3 duplicate lines"
has "$OUT" '"file":' "--json has file"
has "$OUT" '"line":2' "--json has line"
has "$ERR" "0 accepted, 3 duplicate" "--json: summary on stderr"

{
	echo "{\"key\":{\"source_system\":\"test.nd\",\"source_id\":\"n-1\"},\"petition\":{$P,\"receiving_agency\":\"DN-TTR\",\"summary\":\"a\",\"petitioners\":[$(person 'Đỗ F' CCCD 048090000128)]}}"
	echo ""
	echo "{\"key\":{\"source_system\":\"test.nd\",\"source_id\":\"n-2\"},\"petition\":{"
	echo "{\"key\":{\"source_system\":\"test.nd\",\"source_id\":\"n-3\"},\"petition\":{$P,\"receiving_agency\":\"DN-TTR\",\"summary\":\"b\",\"petitioners\":[$(person 'Hồ G' CCCD 048090000129)]}}"
} >"$T/in.ndjson"
run 1 "NDJSON from stdin with a malformed line" "${CLI[@]}" submit - <"$T/in.ndjson"
has "$OUT" "3 objects from 1 file: 2 accepted, 0 duplicate, 1 rejected" "NDJSON summary"
grep -qE "stdin:3 +not_json" "$OUT" || fail "NDJSON: line 3 reported as not JSON"
run 1 "NDJSON file by extension, again" "${CLI[@]}" submit "$T/in.ndjson"
has "$OUT" "0 accepted, 2 duplicate, 1 rejected" "NDJSON resubmit"

# Objects without a key get one from their content.
echo "{\"petition\":{$P,\"receiving_agency\":\"DN-TTR\",\"summary\":\"không khóa\",\"petitioners\":[$(person 'Ngô H' CCCD 048090000130)]}}" >"$T/nokey.ndjson"
run 1 "no key, no --auto-key: intake rejects" "${CLI[@]}" submit "$T/nokey.ndjson"
has "$OUT" "missing_key" "missing_key"
run 0 "--auto-key" "${CLI[@]}" submit --auto-key test.auto "$T/nokey.ndjson"
has "$OUT" "1 accepted" "--auto-key accepted"
run 0 "--auto-key again: duplicate" "${CLI[@]}" submit --auto-key test.auto "$T/nokey.ndjson"
has "$OUT" "1 duplicate" "--auto-key duplicate"

# A few thousand lines, pipelined.
for i in $(seq 1 3000); do
	printf '{"key":{"source_system":"test.bulk","source_id":"k-%d"},"petition":{%s,"receiving_agency":"DN-TTR","summary":"Phản ánh %d","petitioners":[{"full_name":"Người %d","id_kind":"CCCD","id_number":"0480%08d","address":"Số %d"}]}}\n' "$i" "$P" "$i" "$i" "$i" "$i"
done >"$T/bulk.ndjson"
run 0 "3000 lines" "${CLI[@]}" submit --window 128 --progress "$T/bulk.ndjson"
has "$OUT" "3000 accepted" "bulk accepted"
has "$ERR" "submit: 3000 read" "progress on stderr"

# ---------------------------------------------------------------- admin ---
run 0 "admin clock advance 3d (every running service)" "${CLI[@]}" admin clock advance 3d
grep -qE '^intake +moved +now 2026-03-13 09:00:00' "$OUT" || fail "intake moved to 13 March"
grep -qE '^routing +skipped' "$OUT" || fail "routing skipped"
run 0 "status shows the new time" "${CLI[@]}" status --service intake
has "$OUT" "2026-03-13 09:00:00" "clock advanced"
run 0 "admin clock advance 1d12h --service intake" "${CLI[@]}" admin clock advance 1d12h --service intake
has "$OUT" "now 2026-03-14 21:00:00" "1d12h"
run 1 "admin clock set backwards is refused" "${CLI[@]}" admin clock set 2026-03-01 --service intake
has "$OUT" "REFUSED" "backwards refused"
run 2 "admin clock advance 3x" "${CLI[@]}" admin clock advance 3x
run 3 "admin clock of a service that is not running" "${CLI[@]}" admin clock advance 1h --service routing

run 2 "admin reveal without --reason" "${CLI[@]}" admin reveal "$case_no" --by tester
has "$ERR" "--reason" "reveal refusal says what is missing"
[ ! -s "$OUT" ] || fail "reveal without reason printed something"
run 2 "admin reveal with a short reason" "${CLI[@]}" admin reveal "$case_no" --reason short --by tester
run 2 "admin reveal without --by" "${CLI[@]}" admin reveal "$case_no" --reason "kiểm tra đơn trùng lặp"
run 0 "admin reveal with a reason" "${CLI[@]}" admin reveal "$case_no" --reason "kiểm tra đơn trùng lặp" --by "Thanh tra viên A"
has "$OUT" "Nguyễn Văn An" "reveal prints the name"
has "$OUT" "CCCD 048090000123" "reveal prints the identity number"
has "$ERR" "logged" "reveal warns that it is logged"
has "$T/intake.log" "identity revealed" "intake logged the reveal"
run 4 "admin reveal of an unknown case" "${CLI[@]}" admin reveal DN-TTR-2026-999999 --reason "kiểm tra đơn trùng lặp" --by "Thanh tra viên A"

run 0 "admin backup --service intake" "${CLI[@]}" admin backup "$T/bk" --service intake
[ -s "$T/bk/intake/data.mdb" ] || fail "backup wrote bk/intake/data.mdb"
run 3 "admin backup of all: the others are missing" "${CLI[@]}" admin backup "$T/bk2"
[ -s "$T/bk2/intake/data.mdb" ] || fail "backup of all still copied intake"
run 3 "admin reload of a service that is not running" "${CLI[@]}" admin reload register --service routing
run 2 "admin reload without --service" "${CLI[@]}" admin reload register

# ------------------------------------------------ case, from the feeds ---
run 0 "case history without report service: from the feeds" "${CLI[@]}" case history "$case_no"
has "$OUT" "petition_received" "history has the petition"
has "$ERR" "reading the feeds instead" "history says it fell back"
run 0 "case show from the feeds" "${CLI[@]}" case show "$case_no"
grep -qE '^status +RECEIVED' "$OUT" || fail "case show: status RECEIVED"
grep -qE '^receiving agency +DN-TTR' "$OUT" || fail "case show: agency"
run 4 "case history of an unknown case" "${CLI[@]}" case history DN-TTR-2026-999999
run 3 "case show --no-fallback" "${CLI[@]}" case show "$case_no" --no-fallback
run 3 "report without the report service" "${CLI[@]}" report 01/XLD --agency DN-TTR --period 2026-Q1

# ------------------------------------ watch, case, report with the fake ---
"$FAKE" "ipc://$T/f-feed.sock" "ipc://$T/f-pub.sock" "ipc://$T/f-report.sock" 2>"$T/fake.log" &
fake_pid=$!
pids+=("$fake_pid")
for _ in $(seq 1 50); do [ -S "$T/f-report.sock" ] && break; sleep 0.1; done

# The first fetch starts the fake's live part: events 11..40 appear, and the
# escalations among them are published except every third one. Expected:
# every escalation after the head (10), in order, each once.
run 0 "watch: live, gaps filled from the feed" "${FCLI[@]}" watch --state "$T/w.state" --count 12 --timeout 60 --poll 1
got=$(awk '{print $NF}' "$OUT" | tr '\n' ' ')
[ "$got" = "#13 #14 #18 #19 #23 #24 #28 #29 #33 #34 #38 #39 " ] || fail "watch printed $got"
[ "$(awk '{print $3}' "$OUT" | sort -u | tr '\n' ' ')" = "OVERDUE WARNING " ] || fail "watch: level is the third word"
[ "$(cat "$T/w.state")" = 39 ] || fail "state file holds 39, not $(cat "$T/w.state")"
run 0 "watch resumes from the state file: nothing new" "${FCLI[@]}" watch --state "$T/w.state" --timeout 2 --poll 1
[ ! -s "$OUT" ] || fail "resumed watch printed something"
[ "$(cat "$T/w.state")" = 41 ] || fail "state file holds 41"
run 0 "watch --from-seq 1 --agency DN-STC --json" "${FCLI[@]}" watch --no-state --from-seq 1 --agency DN-STC --count 8 --json --timeout 10
[ "$(grep -c '"topic":"esc.warning.DN-STC"' "$OUT")" -eq 8 ] || fail "8 warnings for DN-STC"
run 0 "watch --level overdue --from-seq 30" "${FCLI[@]}" watch --no-state --from-seq 30 --level overdue --count 2 --timeout 10
[ "$(awk '{print $NF}' "$OUT" | tr '\n' ' ')" = "#34 #39 " ] || fail "overdue from 30"
run 0 "watch --flags: the delegation, from the feed" "${FCLI[@]}" watch --no-state --from-seq 1 --level chairman --flags --count 1 --timeout 10
has "$OUT" "DELEGATION" "the delegation flag"
[ "$(awk '{print $NF}' "$OUT")" = "#41" ] || fail "delegation is #41"
run 0 "watch --flags --agency DN-TTR: not that agency's" "${FCLI[@]}" watch --no-state --from-seq 1 --level chairman --agency DN-TTR --flags --timeout 1
[ ! -s "$OUT" ] || fail "a DN-STC flag shown for DN-TTR"
run 0 "watch with nothing to show until --timeout" "${FCLI[@]}" watch --no-state --from-seq 1 --level chairman --timeout 1
run 1 "watch --count not reached before --timeout" "${FCLI[@]}" watch --no-state --from-seq 1 --level chairman --count 1 --timeout 1
run 2 "watch --level bogus" "${FCLI[@]}" watch --level bogus
run 3 "watch with no deadline service" "${CLI[@]}" watch --no-state --timeout 1

run 0 "case show via the report service" "${FCLI[@]}" case show DN-STC-2026-000001
grep -qE '^status +ACCEPTED' "$OUT" || fail "case show: ACCEPTED"
run 0 "case show --json" "${FCLI[@]}" case show DN-STC-2026-000001 --json
has "$OUT" '"kind":"PETITION_KIND_COMPLAINT"' "case show --json"
run 4 "case show of an unknown case" "${FCLI[@]}" case show DN-STC-2026-000009
run 0 "case history via the report service" "${FCLI[@]}" case history DN-STC-2026-000001
[ "$(wc -l <"$OUT")" -eq 15 ] || fail "history: 15 events"
has "$OUT" "deadline_changed" "history has deadline_changed"
run 0 "case explain via the report service" "${FCLI[@]}" case explain DN-STC-2026-000001
has "$OUT" "2026-07-01 + 30 working days = 2026-08-12" "explain: the computation"
has "$OUT" "| + 30 ngày làm việc, trừ nghỉ lễ 2/9" "explain: the explanation text"
has "$OUT" "changed (EXTENDED): due 2026-08-12 -> 2026-09-25" "explain: the change"
has "$OUT" "3 days before due" "explain: the warning"
run 0 "case explain falls back to the deadline feed" "${FCLI[@]}" --report "ipc://$T/no-report.sock" case explain DN-STC-2026-000002
has "$ERR" "reading the deadline feed instead" "explain fallback note"
has "$OUT" "clock DN-STC-2026-000002/kn.resolve.r1 set" "explain fallback content"
run 4 "case explain of a case without deadline events (fallback)" "${FCLI[@]}" --report "ipc://$T/no-report.sock" case explain DN-XX-2026-000001

run 0 "report as a table" "${FCLI[@]}" report 01/XLD --agency DN-STC --period 2026-Q3 --layout wide
has "$OUT" "TỔNG HỢP KẾT QUẢ XỬ LÝ ĐƠN" "report title"
has "$OUT" "(2) Tiếp nhận | Đơn đủ điều kiện xử lý" "report column legend"
# Aligned by display width: every value column ends in the same place.
w1=$(grep '^Sở Tài chính' "$OUT" | python3 -c 'import sys; print(len(sys.stdin.read().rstrip("\n")))')
w2=$(grep '^Tổng cộng' "$OUT" | python3 -c 'import sys; print(len(sys.stdin.read().rstrip("\n")))')
[ "$w1" = "$w2" ] || fail "rows are not aligned ($w1 vs $w2 characters)"
run 0 "report --layout tall" "${FCLI[@]}" report 01/XLD --agency DN-STC --period 2026-Q3 --layout tall
has "$OUT" "Tổng cộng" "tall layout"
run 0 "report --csv" "${FCLI[@]}" report 01/XLD --agency DN-STC --period 2026-Q3 --csv
[ "$(head -c 3 "$OUT" | od -An -tx1 | tr -d ' ')" = "efbbbf" ] || fail "CSV starts with a BOM"
has "$OUT" "Sở Tài chính" "CSV content"
run 0 "report --json" "${FCLI[@]}" report 01/XLD --agency DN-STC --period 2026-Q3 --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["form"]=="01/XLD", d' "$OUT" || fail "report --json is JSON"
run 0 "report --xlsx" "${FCLI[@]}" report 01/XLD --agency DN-STC --period 2026-Q3 --xlsx "$T/r.xlsx"
[ "$(head -c 2 "$T/r.xlsx")" = "PK" ] || fail "xlsx is a zip"
run 4 "report of an unknown form" "${FCLI[@]}" report 99/ZZ --agency DN-STC --period 2026-Q3
run 2 "report with a bad period" "${FCLI[@]}" report 01/XLD --agency DN-STC --period 2026-13-01..2026-01-01
run 2 "report without --agency" "${FCLI[@]}" report 01/XLD --period 2026-Q3
run 0 "report with dates" "${FCLI[@]}" report 01/XLD --agency DN-STC --period 2026-01-01..2026-06-30

run 0 "status with intake, deadline and report" "${FCLI[@]}" status --service intake,deadline,report
grep -qE '^deadline +ok' "$OUT" || fail "status: deadline ok"
has "$OUT" "intake 7/9, 2" "status: consumer position and lag"

# ---------------------------------------------------------------- CURVE ---
# A second intake with CURVE on: the CLI's keys from --curve-dir get in, a
# plain client gets nothing.
GENKEYS=$(dirname "$DATA")/scripts/gen-keys
if /usr/bin/python3 -c 'import zmq' 2>/dev/null && [ -x "$GENKEYS" ]; then
	"$GENKEYS" "$T/ck" >/dev/null
	env DONTHU_INTAKE_DATA_DIR="$T/cintake" DONTHU_INTAKE_LISTEN="ipc://$T/csubmit.sock" \
		DONTHU_INTAKE_FEED_LISTEN="ipc://$T/cfeed.sock" DONTHU_INTAKE_HTTP_PORT=0 \
		DONTHU_INTAKE_REGISTER_DIR="$DATA/register" DONTHU_INTAKE_IDENTITY_KEYS_DIR="$T/ck/identity" \
		DONTHU_INTAKE_CURVE_SECRET_FILE="$T/ck/curve/intake.secret" \
		DONTHU_INTAKE_CURVE_ALLOW_FILE="$T/ck/curve/allow" \
		DONTHU_INTAKE_CLOCK=simulated DONTHU_INTAKE_CLOCK_START=2026-03-10T09:00:00+07:00 \
		DONTHU_LOG=warn "$INTAKE" 2>"$T/cintake.log" &
	cintake_pid=$!
	pids+=("$cintake_pid")
	CC=("$DONTHU" --intake "ipc://$T/csubmit.sock" --intake-feed "ipc://$T/cfeed.sock" --rpc-timeout 2)
	for _ in $(seq 1 100); do [ -S "$T/csubmit.sock" ] && break; sleep 0.1; done
	run 0 "CURVE: submit with --curve-dir" "${CC[@]}" --curve-dir "$T/ck" submit "$T/good.json"
	has "$OUT" "3 accepted" "CURVE submit"
	run 0 "CURVE: status with --curve-dir" "${CC[@]}" --curve-dir "$T/ck" status --service intake
	run 3 "CURVE: a plain client gets no answer" "${CC[@]}" submit --timeout 1 "$T/good.json"
	run 2 "CURVE: --curve-dir without keys" "${CC[@]}" --curve-dir "$T/nokeys" status --service intake
	has "$ERR" "gen-keys" "missing keys say how to make them"
	kill -TERM "$cintake_pid"
	wait "$cintake_pid"
else
	echo "skip: CURVE (needs /usr/bin/python3 with zmq for scripts/gen-keys)"
fi

# ------------------------------------------------------- intake stops ---
kill -TERM "$intake_pid"
wait "$intake_pid"
rc=$?
[ $rc -eq 0 ] || fail "intake exit status $rc"
pids=("$fake_pid")
run 3 "submit with intake stopped" "${CLI[@]}" submit "$T/good.json"
has "$ERR" "donthu-intake running" "unreachable message says what to do"
run 3 "status with intake stopped" "${CLI[@]}" status --service intake
kill -TERM "$fake_pid"
wait "$fake_pid" 2>/dev/null

if [ $fails -ne 0 ]; then
	echo "cli_test: $fails failure(s)"
	exit 1
fi
echo "cli_test: all passed"
