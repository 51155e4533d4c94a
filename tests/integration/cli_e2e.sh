#!/usr/bin/env bash
# The donthu CLI end to end over the four real services (ipc:// sockets in a
# temp folder, simulated clock): submit, let the clock pass a due date, see the
# escalation with watch, follow the case through the report service, print a
# report, administer every service at once, stop cleanly.
#
#   cli_e2e.sh DONTHU INTAKE ROUTING DEADLINE REPORT REPO_ROOT
set -uo pipefail
DONTHU=$1
BIN_INTAKE=$2
BIN_ROUTING=$3
BIN_DEADLINE=$4
BIN_REPORT=$5
R=$6

T=$(mktemp -d /tmp/donthu-e2e.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
	if [ -z "${KEEP_TMP:-}" ]; then rm -rf "$T"; else echo "kept $T"; fi
}
trap cleanup EXIT

fails=0
OUT=$T/out
ERR=$T/err
. "$(dirname "${BASH_SOURCE[0]}")/check.sh"

START=2026-03-10T09:00:00+07:00
mkdir -p "$T/keys"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/keys/1.key"
echo >>"$T/keys/1.key"
names=()
start() { # name binary env...
	local name=$1 bin=$2
	shift 2
	env DONTHU_LOG=warn "$@" "$bin" 2>"$T/$name.log" &
	pids+=($!)
	names+=("$name")
}
start intake "$BIN_INTAKE" DONTHU_INTAKE_DATA_DIR="$T/intake" \
	DONTHU_INTAKE_LISTEN="ipc://$T/submit.sock" DONTHU_INTAKE_FEED_LISTEN="ipc://$T/intake-feed.sock" \
	DONTHU_INTAKE_HTTP_PORT=0 DONTHU_INTAKE_REGISTER_DIR="$R/data/register" \
	DONTHU_INTAKE_IDENTITY_KEYS_DIR="$T/keys" DONTHU_INTAKE_CLOCK=simulated DONTHU_INTAKE_CLOCK_START=$START
start routing "$BIN_ROUTING" DONTHU_ROUTING_DATA_DIR="$T/routing" \
	DONTHU_ROUTING_FEED_LISTEN="ipc://$T/routing-feed.sock" DONTHU_ROUTING_INTAKE_FEED="ipc://$T/intake-feed.sock" \
	DONTHU_ROUTING_HTTP_PORT=0 DONTHU_ROUTING_REGISTER_DIR="$R/data/register" \
	DONTHU_ROUTING_RULES_FILE="$R/data/routing/rules.json" DONTHU_ROUTING_CLOCK=simulated \
	DONTHU_ROUTING_CLOCK_START=$START
start deadline "$BIN_DEADLINE" DONTHU_DEADLINE_DATA_DIR="$T/deadline" \
	DONTHU_DEADLINE_FEED_LISTEN="ipc://$T/deadline-feed.sock" DONTHU_DEADLINE_PUB_LISTEN="ipc://$T/deadline-pub.sock" \
	DONTHU_DEADLINE_HTTP_PORT=0 DONTHU_DEADLINE_INTAKE_FEED="ipc://$T/intake-feed.sock" \
	DONTHU_DEADLINE_ROUTING_FEED="ipc://$T/routing-feed.sock" DONTHU_DEADLINE_CALENDAR_DIR="$R/data/calendar" \
	DONTHU_DEADLINE_POLICY_FILE="$R/data/policy/deadline-policy.json" DONTHU_DEADLINE_CLOCK=simulated \
	DONTHU_DEADLINE_CLOCK_START=$START
start report "$BIN_REPORT" DONTHU_REPORT_DATA_DIR="$T/report" DONTHU_REPORT_LISTEN="ipc://$T/report.sock" \
	DONTHU_REPORT_HTTP_PORT=0 DONTHU_REPORT_INTAKE_FEED="ipc://$T/intake-feed.sock" \
	DONTHU_REPORT_ROUTING_FEED="ipc://$T/routing-feed.sock" DONTHU_REPORT_DEADLINE_FEED="ipc://$T/deadline-feed.sock" \
	DONTHU_REPORT_REGISTER_DIR="$R/data/register" DONTHU_REPORT_FORMS_DIR="$R/data/forms" \
	DONTHU_REPORT_CLOCK=simulated DONTHU_REPORT_CLOCK_START=$START

CLI=("$DONTHU" --data-dir "$T" --intake "ipc://$T/submit.sock" --intake-feed "ipc://$T/intake-feed.sock"
	--routing "ipc://$T/routing-feed.sock" --deadline "ipc://$T/deadline-feed.sock"
	--deadline-pub "ipc://$T/deadline-pub.sock" --report "ipc://$T/report.sock")
for _ in $(seq 1 150); do
	"${CLI[@]}" status >/dev/null 2>&1 && break
	sleep 0.1
done
run 0 "status: all four up" "${CLI[@]}" status
for s in intake routing deadline report; do
	grep -qE "^$s +ok" "$OUT" || fail "status: $s not ok"
done

P='"channel":"PORTAL","kind":"COMPLAINT","complaint_subject":"ADMINISTRATIVE_DECISION","round":"FIRST","signer_count":1,"signed":true,"field":"dat-dai"'
{
	for i in 1 2 3; do
		printf '{"key":{"source_system":"e2e","source_id":"c-%d"},"petition":{%s,"received_at_ms":"2026-03-0%dT09:00:00+07:00","receiving_agency":"DN-TTR","summary":"Khiếu nại quyết định thu hồi đất số %d","respondent":{"name":"UBND phường Hòa Cường","issuing_agency":"UBND-20257","decision_number":"%d/QĐ-UBND","decision_date":"2026-02-02"},"petitioners":[{"full_name":"Nguyễn Văn %d","id_kind":"CCCD","id_number":"04809000%04d","address":"%d Lê Duẩn, Hải Châu"}]}}\n' \
			"$i" "$P" "$i" "$i" "$i" "$i" "$i" "$i"
	done
} >"$T/e2e.ndjson"
run 0 "submit three complaints" "${CLI[@]}" submit -v "$T/e2e.ndjson"
has "$OUT" "3 accepted" "submit"
case_no=$(awk '$1 ~ /e2e.ndjson:1$/ && $2 == "ACCEPTED" {print $3}' "$OUT")
[ -n "$case_no" ] || fail "no case number for line 1"

run 0 "admin clock advance 60d on every service" "${CLI[@]}" admin clock advance 60d
[ "$(grep -c ' moved ' "$OUT")" -eq 4 ] || fail "all four clocks moved"

run 0 "watch: an escalation for DN-TTR" "${CLI[@]}" watch --no-state --from-seq 1 --agency DN-TTR --count 1 --timeout 60
[ "$(wc -l <"$OUT")" -eq 1 ] || fail "one escalation line"
has "$OUT" "DN-TTR" "escalation names the agency"

# The report service reads three feeds; give it the time to catch up.
for _ in $(seq 1 100); do
	"${CLI[@]}" case explain "$case_no" --no-fallback 2>/dev/null | grep -q ' set: due ' && break
	sleep 0.2
done
run 0 "case show via the report service" "${CLI[@]}" case show "$case_no" --no-fallback
has "$OUT" "COMPLAINT" "case show kind"
run 0 "case history via the report service" "${CLI[@]}" case history "$case_no" --no-fallback
has "$OUT" "petition_received" "history: intake event"
has "$OUT" "classified" "history: routing event"
has "$OUT" "deadline_set" "history: deadline event"
run 0 "case explain via the report service" "${CLI[@]}" case explain "$case_no" --no-fallback
has "$OUT" " days = " "explain shows the computation"
run 0 "case list --agency DN-TTR" "${CLI[@]}" case list --agency DN-TTR
has "$OUT" "$case_no" "case list has the case"
run 0 "report 01/XLD for DN-TTR" "${CLI[@]}" report 01/XLD --agency DN-TTR --period 2026-Q1
has "$OUT" "01/XLD" "report form"
run 0 "report --csv" "${CLI[@]}" report 01/XLD --agency DN-TTR --period 2026-Q1 --csv
[ "$(head -c 3 "$OUT" | od -An -tx1 | tr -d ' ')" = "efbbbf" ] || fail "CSV BOM"
run 0 "admin reload register --service all" "${CLI[@]}" admin reload register --service all
run 0 "admin backup of every store" "${CLI[@]}" admin backup "$T/bk"
for s in intake routing deadline report; do
	[ -s "$T/bk/$s/data.mdb" ] || fail "backup of $s"
done
run 0 "admin reveal" "${CLI[@]}" admin reveal "$case_no" --reason "đối chiếu hồ sơ khiếu nại" --by "e2e test"
has "$OUT" "Nguyễn Văn 1" "reveal"

for i in "${!pids[@]}"; do
	kill -TERM "${pids[$i]}"
	wait "${pids[$i]}"
	rc=$?
	[ $rc -eq 0 ] || { echo "FAIL: ${names[$i]} exited $rc"; tail -5 "$T/${names[$i]}.log"; fails=$((fails + 1)); }
done
pids=()
if [ $fails -ne 0 ]; then
	echo "cli_e2e: $fails failure(s)"
	exit 1
fi
echo "cli_e2e: all passed"
