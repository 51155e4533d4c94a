#!/usr/bin/env bash
# The donthu CLI against the real services (ipc:// sockets in a temp folder,
# simulated clock): submit, status, admin and the case fallbacks against
# donthu-intake alone; then watch, case and report against a second set of all
# four (intake, routing, deadline, report), with every expectation read from
# their feeds (feedq.py below: pyzmq and protoc-generated classes, not the CLI)
# rather than written in; last, CURVE and intake stopping.
#
#   cli_test.sh DONTHU INTAKE ROUTING DEADLINE REPORT REPO_ROOT
set -uo pipefail
DONTHU=$1
INTAKE=$2
ROUTING=$3
DEADLINE=$4
REPORT=$5
R=$6
DATA=$R/data
# Debian's python3 with python3-zmq and python3-protobuf (scripts/install-deps);
# a pyenv or venv python does not see them.
PY=/usr/bin/python3
if ! "$PY" -c 'import zmq, google.protobuf' 2>/dev/null || ! command -v protoc >/dev/null; then
	echo "skip: needs $PY with zmq and protobuf, and protoc, to read the feeds (scripts/install-deps)"
	exit 77
fi

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

. "$(dirname "${BASH_SOURCE[0]}")/check.sh"
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

# ------------------------------- watch, case, report: the four services ---
# A second set of the four real services (its own intake, so the few cases
# below are all there is), on the simulated clock. Every expectation is read
# from their feeds by feedq.py, which talks to the feeds directly (pyzmq and
# protoc-generated classes) rather than through the code under test.
mkdir -p "$T/pb2"
protoc --python_out="$T/pb2" -I "$R/proto" "$R"/proto/donthu/v1/*.proto || fail "protoc"
cat >"$T/feedq.py" <<'EOF'
"""feedq.py PB2_DIR dump EP        every event of a feed, one JSON object a line
   feedq.py PB2_DIR head EP        the feed's head sequence
   feedq.py - esc DUMP [--from N] [--level L,...] [--agency P] [--flags] [--levels]
                                   the escalations a watch with those options must
                                   print, as #SEQ (or LEVEL #SEQ), in feed order:
                                   a delegation only with --flags, whatever its level
                                   (DEADLINES.md: it goes out as flag.delegation.<agency>)"""
import json
import sys


def feed(pb2, cmd, ep):
    sys.path.insert(0, pb2)
    import zmq
    from google.protobuf import json_format
    from donthu.v1 import envelope_pb2
    E = envelope_pb2.Envelope
    ctx = zmq.Context()
    nxt = 1
    while True:
        q = E(schema_version=1)
        q.fetch.consumer = "cli_test"
        q.fetch.from_seq = nxt
        q.fetch.max_events = 1000
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(ep)
        s.send(q.SerializeToString())
        if not s.poll(10000):
            sys.exit("feedq: no answer from %s" % ep)
        r = E()
        r.ParseFromString(s.recv())
        s.close()
        if not r.HasField("fetch_reply"):
            sys.exit("feedq: %s answered %s" % (ep, r))
        head = r.fetch_reply.head_seq
        if cmd == "head":
            print(head)
            break
        for raw in r.fetch_reply.events:
            e = E()
            e.ParseFromString(raw)
            print(json.dumps(json_format.MessageToDict(e, preserving_proto_field_name=True),
                             ensure_ascii=False))
            nxt = e.sequence + 1
        if not r.fetch_reply.events or nxt > head:
            break
    ctx.term()


def esc(path, args):
    first, levels, agency, flags, show_level = 1, None, "", False, False
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--from":
            first = int(args[i + 1]); i += 1
        elif a == "--level":
            levels = {"ESCALATION_LEVEL_" + x.upper() for x in args[i + 1].split(",")}; i += 1
        elif a == "--agency":
            agency = args[i + 1]; i += 1
        elif a == "--flags":
            flags = True
        elif a == "--levels":
            show_level = True
        i += 1
    for line in open(path):
        ev = json.loads(line)
        e = ev.get("escalation")
        if e is None or int(ev["sequence"]) < first:
            continue
        if not e.get("agency", "").startswith(agency):
            continue
        if e.get("reason") == "ESCALATION_REASON_DELEGATION":
            if not flags:
                continue
        elif levels is not None and e["level"] not in levels:
            continue
        lv = e["level"][len("ESCALATION_LEVEL_"):] + " " if show_level else ""
        print("%s#%s" % (lv, ev["sequence"]))


if sys.argv[2] == "esc":
    esc(sys.argv[3], sys.argv[4:])
else:
    feed(sys.argv[1], sys.argv[2], sys.argv[3])
EOF
feedq() { "$PY" "$T/feedq.py" "$T/pb2" "$@"; }
esc() { "$PY" "$T/feedq.py" - esc "$@"; }
# dump: the three feeds of the second set into $T/{intake,routing,deadline}.jsonl
dump() {
	feedq dump "ipc://$B/intake-feed.sock" >"$T/intake.jsonl" &&
		feedq dump "ipc://$B/routing-feed.sock" >"$T/routing.jsonl" &&
		feedq dump "ipc://$B/deadline-feed.sock" >"$T/deadline.jsonl"
}
# seqs FILE: the #SEQ at the end of each line of watch output, space-separated
seqs() { awk '{print $NF}' "$1" | tr '\n' ' '; }
# until_ok TRIES CMD...: run CMD every 0.1 s until it succeeds, at most TRIES times
until_ok() {
	local n=$1
	shift
	for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}
# Every consumer has applied its producer's whole feed: nothing is in flight
# (the clock is simulated and stands still between the steps below).
caught_up() {
	"${BCLI[@]}" status --json >"$T/st.json" 2>/dev/null || return 1
	"$PY" - "$T/st.json" <<-'EOF'
		import json, sys
		st = {}
		for line in open(sys.argv[1]):
		    o = json.loads(line)
		    st[o["service"]] = o["status"]
		head = {k: int(v.get("feed_head", 0)) for k, v in st.items()}
		for v in st.values():
		    for c in v.get("consumers", []):
		        if int(c.get("applied_seq", 0)) != head[c["producer"]]:
		            sys.exit(1)
	EOF
}
lines_at_least() { [ "$(cat "$@" | wc -l)" -ge "${want_lines:?}" ]; }

B=$T/b
mkdir -p "$B"
declare -A bpid
start() { # name binary env...
	local name=$1 bin=$2
	shift 2
	env DONTHU_LOG=warn "$@" "$bin" 2>>"$T/b-$name.log" &
	bpid[$name]=$!
	pids+=($!)
}
# stop NAME: SIGTERM, and it must exit 0
stop() {
	kill -TERM "${bpid[$1]}"
	wait "${bpid[$1]}" || fail "$1 of the second set exited $?"
}
SB=2026-03-10T09:00:00+07:00
start intake "$INTAKE" DONTHU_INTAKE_DATA_DIR="$B/intake" \
	DONTHU_INTAKE_LISTEN="ipc://$B/submit.sock" DONTHU_INTAKE_FEED_LISTEN="ipc://$B/intake-feed.sock" \
	DONTHU_INTAKE_HTTP_PORT=0 DONTHU_INTAKE_REGISTER_DIR="$DATA/register" \
	DONTHU_INTAKE_IDENTITY_KEYS_DIR="$T/keys" DONTHU_INTAKE_CLOCK=simulated DONTHU_INTAKE_CLOCK_START=$SB
start routing "$ROUTING" DONTHU_ROUTING_DATA_DIR="$B/routing" \
	DONTHU_ROUTING_FEED_LISTEN="ipc://$B/routing-feed.sock" DONTHU_ROUTING_INTAKE_FEED="ipc://$B/intake-feed.sock" \
	DONTHU_ROUTING_HTTP_PORT=0 DONTHU_ROUTING_REGISTER_DIR="$DATA/register" \
	DONTHU_ROUTING_RULES_FILE="$DATA/routing/rules.json" DONTHU_ROUTING_CLOCK=simulated \
	DONTHU_ROUTING_CLOCK_START=$SB
start_deadline() { # clock start
	start deadline "$DEADLINE" DONTHU_DEADLINE_DATA_DIR="$B/deadline" \
		DONTHU_DEADLINE_FEED_LISTEN="ipc://$B/deadline-feed.sock" DONTHU_DEADLINE_PUB_LISTEN="ipc://$B/deadline-pub.sock" \
		DONTHU_DEADLINE_HTTP_PORT=0 DONTHU_DEADLINE_INTAKE_FEED="ipc://$B/intake-feed.sock" \
		DONTHU_DEADLINE_ROUTING_FEED="ipc://$B/routing-feed.sock" DONTHU_DEADLINE_CALENDAR_DIR="$DATA/calendar" \
		DONTHU_DEADLINE_POLICY_FILE="$DATA/policy/deadline-policy.json" DONTHU_DEADLINE_CLOCK=simulated \
		DONTHU_DEADLINE_CLOCK_START="$1"
}
start_deadline $SB
start report "$REPORT" DONTHU_REPORT_DATA_DIR="$B/report" DONTHU_REPORT_LISTEN="ipc://$B/report.sock" \
	DONTHU_REPORT_HTTP_PORT=0 DONTHU_REPORT_INTAKE_FEED="ipc://$B/intake-feed.sock" \
	DONTHU_REPORT_ROUTING_FEED="ipc://$B/routing-feed.sock" DONTHU_REPORT_DEADLINE_FEED="ipc://$B/deadline-feed.sock" \
	DONTHU_REPORT_REGISTER_DIR="$DATA/register" DONTHU_REPORT_FORMS_DIR="$DATA/forms" \
	DONTHU_REPORT_CLOCK=simulated DONTHU_REPORT_CLOCK_START=$SB
BCLI=("$DONTHU" --data-dir "$B" --rpc-timeout 5
	--intake "ipc://$B/submit.sock" --intake-feed "ipc://$B/intake-feed.sock"
	--routing "ipc://$B/routing-feed.sock" --deadline "ipc://$B/deadline-feed.sock"
	--deadline-pub "ipc://$B/deadline-pub.sock" --report "ipc://$B/report.sock")
all_up() { "${BCLI[@]}" status >/dev/null 2>&1; }
until_ok 300 all_up
run 0 "second set: all four services up" "${BCLI[@]}" status

# Two cases at the Sở Tài chính (a complaint about its own decision, which is
# accepted and extended, and a feedback), one at the inspectorate, and a
# delegation of eight at a ward's reception desk, which routing flags.
who() { echo "\"petitioners\":[{\"full_name\":\"Người $1\",\"id_kind\":\"CCCD\",\"id_number\":\"04809100000$1\",\"address\":\"$1 Lê Duẩn, Hải Châu\"}]"; }
K='"signed":true,"summary":"Đơn thử"'
cat >"$T/set.ndjson" <<EOF
{"key":{"source_system":"test.cli","source_id":"s-1"},"petition":{$K,"channel":"PORTAL","received_at_ms":"2026-03-09T09:00:00+07:00","receiving_agency":"DN-STC","kind":"COMPLAINT","complaint_subject":"ADMINISTRATIVE_DECISION","round":"FIRST","respondent":{"name":"Sở Tài chính","issuing_agency":"DN-STC","decision_number":"12/QĐ-STC","decision_date":"2026-02-02"},"signer_count":1,"field":"tai-chinh",$(who 1)}}
{"key":{"source_system":"test.cli","source_id":"s-2"},"petition":{$K,"channel":"PORTAL","received_at_ms":"2026-03-09T10:00:00+07:00","receiving_agency":"DN-STC","kind":"FEEDBACK","signer_count":1,"field":"tai-chinh",$(who 2)}}
{"key":{"source_system":"test.cli","source_id":"t-1"},"petition":{$K,"channel":"PORTAL","received_at_ms":"2026-03-09T11:00:00+07:00","receiving_agency":"DN-TTR","kind":"FEEDBACK","signer_count":1,$(who 3)}}
{"key":{"source_system":"test.cli","source_id":"d-1"},"petition":{$K,"channel":"IN_PERSON","received_at_ms":"2026-03-10T08:00:00+07:00","receiving_agency":"UBND-20257","kind":"RECOMMENDATION","delegation_size":8,"signer_count":8,"field":"giao-duc",$(who 4)}}
EOF
run 0 "second set: submit four petitions" "${BCLI[@]}" submit -v "$T/set.ndjson"
c1=$(awk '$1 ~ /set.ndjson:1$/ {print $3}' "$OUT")
c2=$(awk '$1 ~ /set.ndjson:2$/ {print $3}' "$OUT")
[ -n "$c1" ] && [ -n "$c2" ] || fail "no case numbers"
cat >"$T/act.ndjson" <<EOF
{"key":{"source_system":"test.cli","source_id":"a-1"},"action":{"case_number":"$c1","effective_at_ms":"2026-03-10T09:00:00+07:00","officer":"cli.test","document_number":"5/QĐ-TL","accept":{"complexity":"NORMAL","remote_area":false}}}
{"key":{"source_system":"test.cli","source_id":"a-2"},"action":{"case_number":"$c1","effective_at_ms":"2026-03-10T09:00:00+07:00","officer":"cli.test","extend":{"days":15,"reason":"vụ việc phức tạp","complexity":"COMPLEX"}}}
EOF
run 0 "second set: accept and extend the complaint" "${BCLI[@]}" submit "$T/act.ndjson"
until_ok 300 caught_up || fail "the services did not catch up"
dump || fail "reading the feeds"
h0=$(feedq head "ipc://$B/deadline-feed.sock")
[ -n "$(esc "$T/deadline.jsonl" --flags --agency UBND-20257 --level warning)" ] ||
	fail "routing's delegation flag did not reach the deadline feed"

# ------------------------------------------------------------- watch ---
# Escalations the PUB socket did not deliver to a watcher must still be
# printed, from the deadline feed, each once and in feed order:
# 1. w1 runs while the clock passes the first warnings, and is stopped;
# 2. the clock passes the due dates with nobody subscribed;
# 3. w2 starts from w1's state file: it reads those from the feed, then gets
#    the head and chairman levels live;
# 4. w2 is frozen (SIGSTOP) while the deadline service restarts at a later
#    time and raises what fell due meanwhile, to no subscriber. w2 polls the
#    feed only every 600 s, so once continued only the sequence jump of the
#    next live escalation can show it what it missed.
echo "$h0" >"$T/w.state"
"${BCLI[@]}" watch --state "$T/w.state" --poll 1 --timeout 120 >"$T/w1.out" 2>"$T/w1.err" &
w1=$!
pids+=("$w1")
sleep 0.3 # to be subscribed when the first escalations go out; the feed fills in anyway
run 0 "admin clock advance 8d: warnings, watched" "${BCLI[@]}" admin clock advance 8d
dump
want1=$(esc "$T/deadline.jsonl" --from $((h0 + 1)) | tr '\n' ' ')
want_lines=$(echo "$want1" | wc -w)
[ "$want_lines" -gt 0 ] || fail "8 days raised no escalation"
until_ok 300 lines_at_least "$T/w1.out" || fail "the first watcher printed $(wc -l <"$T/w1.out") of $want_lines"
kill -TERM "$w1"
wait "$w1" || fail "the first watcher exited $?"
[ "$(seqs "$T/w1.out")" = "$want1" ] || fail "first watcher: $(seqs "$T/w1.out"), want $want1"

h1=$(feedq head "ipc://$B/deadline-feed.sock")
run 0 "admin clock advance 7d: overdue, nobody watching" "${BCLI[@]}" admin clock advance 7d
"${BCLI[@]}" watch --state "$T/w.state" --poll 600 --timeout 300 >"$T/w2.out" 2>"$T/w2.err" &
w2=$!
pids+=("$w2")
sleep 0.3
run 0 "admin clock advance 20d: head and chairman, watched" "${BCLI[@]}" admin clock advance 20d

hd=$(feedq head "ipc://$B/deadline-feed.sock")
dump
want_lines=$(esc "$T/deadline.jsonl" --from $((h0 + 1)) | wc -l)
until_ok 300 lines_at_least "$T/w1.out" "$T/w2.out" ||
	fail "the watchers printed $(cat "$T/w1.out" "$T/w2.out" | wc -l) of $want_lines before the restart"
kill -STOP "$w2"
stop deadline
run 0 "admin clock advance 10d: deadline is down" "${BCLI[@]}" admin clock advance 10d
grep -qE '^deadline +skipped' "$OUT" || fail "deadline's clock moved while it was down"
now=$(awk '$1 == "intake" {print $4 "T" $5 "+07:00"}' "$OUT")
start_deadline "$now"
# It raises nothing until it has read both feeds (and a clock move is not
# acted on before the answer until then): wait for what fell due meanwhile.
head_grew() { [ "$(feedq head "ipc://$B/deadline-feed.sock" 2>/dev/null)" -gt "$hd" ] 2>/dev/null; }
until_ok 300 head_grew || fail "deadline raised nothing after its restart"
dump
missed=$(esc "$T/deadline.jsonl" --from $((hd + 1)) | wc -l)
[ "$missed" -gt 0 ] || fail "nothing was raised while the watcher was frozen"
kill -CONT "$w2"
# Its subscription reconnects by itself (the connection shows in
# /proc/net/unix). Then a petition signed by six is escalated at once (a HEAD
# flag), live; should that one still beat the subscription, another follows.
pub_connected() { awk -v p="$B/deadline-pub.sock" '$6 == "03" && $8 == p {f = 1} END {exit !f}' /proc/net/unix; }
until_ok 100 pub_connected || echo "note: no connection to the PUB socket seen in /proc/net/unix"
for i in 1 2 3 4 5; do
	echo "{\"key\":{\"source_system\":\"test.cli\",\"source_id\":\"p-$i\"},\"petition\":{$K,\"channel\":\"POST\",\"received_at_ms\":\"2026-04-20T09:00:00+07:00\",\"receiving_agency\":\"DN-TTR\",\"kind\":\"FEEDBACK\",\"signer_count\":6,$(who $((4 + i)))}}" >"$T/p.ndjson"
	run 0 "submit a petition signed by six, watched" "${BCLI[@]}" submit "$T/p.ndjson"
	until_ok 300 caught_up || fail "the services did not catch up"
	dump
	want_lines=$(esc "$T/deadline.jsonl" --from $((h0 + 1)) | wc -l)
	until_ok 20 lines_at_least "$T/w1.out" "$T/w2.out" && break
done
until_ok 300 lines_at_least "$T/w1.out" "$T/w2.out" ||
	fail "the watchers printed $(cat "$T/w1.out" "$T/w2.out" | wc -l) of $want_lines"
kill -TERM "$w2"
wait "$w2" || fail "the second watcher exited $?"
want=$(esc "$T/deadline.jsonl" --from $((h0 + 1)) | tr '\n' ' ')
[ -n "$(esc "$T/deadline.jsonl" --from $((h1 + 1)) --level overdue)" ] || fail "no overdue escalation while nobody watched"
cat "$T/w1.out" "$T/w2.out" >"$OUT"
[ "$(seqs "$OUT")" = "$want" ] || fail "watch: printed $(seqs "$OUT"), want $want"
[ "$(awk '{print $3, $NF}' "$OUT")" = "$(esc "$T/deadline.jsonl" --from $((h0 + 1)) --levels)" ] ||
	fail "watch: the level is not the third word"
[ -s "$T/w2.out" ] && [ "$(head -1 "$T/w2.out" | awk '{print $NF}')" != "$(tail -1 "$T/w1.out" | awk '{print $NF}')" ] ||
	fail "the second watcher repeated or printed nothing"
echo "ok: watch: $want_lines escalations each once, $missed of them raised while the watcher was frozen"
head=$(feedq head "ipc://$B/deadline-feed.sock")
run 0 "watch resumes from the state file: nothing new" "${BCLI[@]}" watch --state "$T/w.state" --timeout 2 --poll 1
[ ! -s "$OUT" ] || fail "resumed watch printed something"
[ "$(cat "$T/w.state")" = "$head" ] || fail "state file holds $(cat "$T/w.state"), not the head $head"

all=$(esc "$T/deadline.jsonl" | tr '\n' ' ')
run 0 "watch --from-seq 1 --count 3 --state" "${BCLI[@]}" watch --state "$T/c.state" --from-seq 1 --count 3 --timeout 20
[ "$(seqs "$OUT")" = "$(echo "$all" | cut -d' ' -f1-3) " ] || fail "--count 3 printed $(seqs "$OUT")"
[ "#$(cat "$T/c.state")" = "$(echo "$all" | cut -d' ' -f3)" ] || fail "--count: the state is not the third's"
run 0 "watch --count 2 continues right after it" "${BCLI[@]}" watch --state "$T/c.state" --count 2 --timeout 20
[ "$(seqs "$OUT")" = "$(echo "$all" | cut -d' ' -f4-5) " ] || fail "the next two: $(seqs "$OUT")"

want=$(esc "$T/deadline.jsonl" --agency DN-STC | tr '\n' ' ')
n=$(echo "$want" | wc -w)
run 0 "watch --from-seq 1 --agency DN-STC --json" "${BCLI[@]}" watch --no-state --from-seq 1 --agency DN-STC --count "$n" --json --timeout 20
[ "$(grep -c '"topic":"esc\.[a-z]*\.DN-STC"' "$OUT")" -eq "$n" ] || fail "--json: $n topics esc.*.DN-STC"
got=$("$PY" -c 'import json,sys; print(" ".join("#%s" % json.loads(l)["sequence"] for l in open(sys.argv[1])))' "$OUT")
[ "$got " = "$want" ] || fail "--agency DN-STC --json: $got, want $want"

from=$((h1 + 1))
want=$(esc "$T/deadline.jsonl" --from "$from" --level overdue | tr '\n' ' ')
n=$(echo "$want" | wc -w)
run 0 "watch --level overdue --from-seq $from" "${BCLI[@]}" watch --no-state --from-seq "$from" --level overdue --count "$n" --timeout 20
[ "$(seqs "$OUT")" = "$want" ] || fail "overdue from $from: $(seqs "$OUT"), want $want"
[ "$(awk '{print $3}' "$OUT" | sort -u)" = OVERDUE ] || fail "--level overdue printed other levels"

want=$(esc "$T/deadline.jsonl" --level chairman --flags | tr '\n' ' ')
n=$(echo "$want" | wc -w)
run 0 "watch --flags: the delegation, from the feed" "${BCLI[@]}" watch --no-state --from-seq 1 --level chairman --flags --count "$n" --timeout 20
has "$OUT" "DELEGATION" "the delegation flag"
has "$OUT" "UBND-20257" "the delegation's agency"
[ "$(seqs "$OUT")" = "$want" ] || fail "--level chairman --flags: $(seqs "$OUT"), want $want"
want=$(esc "$T/deadline.jsonl" --level chairman --agency DN-TTR --flags | tr '\n' ' ')
run 0 "watch --flags --agency DN-TTR: not that agency's" "${BCLI[@]}" watch --no-state --from-seq 1 --level chairman --agency DN-TTR --flags --timeout 1
hasnt "$OUT" "DELEGATION" "a UBND-20257 flag shown for DN-TTR"
[ "$(seqs "$OUT")" = "$want" ] || fail "--agency DN-TTR --flags: $(seqs "$OUT"), want $want"
[ -z "$(esc "$T/deadline.jsonl" --agency DN-SXD --flags)" ] || fail "DN-SXD has escalations"
run 0 "watch with nothing to show until --timeout" "${BCLI[@]}" watch --no-state --from-seq 1 --agency DN-SXD --flags --timeout 1
[ ! -s "$OUT" ] || fail "watch printed something for DN-SXD"
n=$(esc "$T/deadline.jsonl" --level chairman --agency DN-STC | wc -l)
run 1 "watch --count not reached before --timeout" "${BCLI[@]}" watch --no-state --from-seq 1 --level chairman --agency DN-STC --count $((n + 1)) --timeout 1
[ "$(wc -l <"$OUT")" -eq "$n" ] || fail "--count $((n + 1)): printed $(wc -l <"$OUT"), want $n"
run 2 "watch --level bogus" "${BCLI[@]}" watch --level bogus
run 3 "watch with no deadline service" "${CLI[@]}" watch --no-state --timeout 1

# -------------------------------------------------------------- case ---
NOREP=(--report "ipc://$T/no-report.sock")
# The case's facts as the feeds have them.
cat >"$T/case.py" <<'EOF'
import json, sys
d, case = sys.argv[1], sys.argv[2]
def read(name):
    return [json.loads(l) for l in open("%s/%s.jsonl" % (d, name))]
evs = {p: [e for e in read(p) if e.get("case_number") == case] for p in ("intake", "routing", "deadline")}
acts = [e["case_action"]["status_after"] for e in evs["intake"] if "case_action" in e]
print("status", (acts or ["CASE_STATUS_RECEIVED"])[-1][len("CASE_STATUS_"):])
print("kind", evs["intake"][0]["petition_received"]["petition"]["kind"][len("PETITION_KIND_"):])
print("events", sum(len(v) for v in evs.values()))
for p, v in evs.items():
    for e in v:
        print("event", p, e["sequence"])
for e in evs["deadline"]:
    if "deadline_set" in e:
        s = e["deadline_set"]
        unit = "working" if s["unit"] == "DAY_UNIT_WORKING" else "calendar"
        print("has %s + %s %s days = %s" % (s["trigger_date"], s["length"], unit, s["due_date"]))
        print("has     | " + s["explain"].split("\n")[0])
    if "deadline_changed" in e:
        c = e["deadline_changed"]
        print("has changed (%s): due %s -> %s" % (c["reason"][len("CHANGE_REASON_"):],
                                                 c["old_due_date"], c["new_due_date"]))
    if "escalation" in e:
        x = e["escalation"]
        n = int(x.get("days_overdue", 0))
        days = "%d days overdue" % n if n > 0 else "%d days before due" % -n if n < 0 else "on the due date"
        print("has escalation %s (%s): clock %s due %s, %s; notify %s" % (
            x["level"][len("ESCALATION_LEVEL_"):], x["reason"][len("ESCALATION_REASON_"):],
            x.get("clock_id", "-"), x.get("due_date", "-"), days, x["notify_agency"]))
EOF
"$PY" "$T/case.py" "$T" "$c1" >"$T/c1.want"
grep -q '^has changed (EXTENDED)' "$T/c1.want" || fail "the extension is not on the deadline feed"
grep -q '^has escalation WARNING' "$T/c1.want" || fail "no warning for $c1 on the deadline feed"
run 0 "case show via the report service" "${BCLI[@]}" case show "$c1" --no-fallback
grep -qE "^status +$(awk '$1 == "status" {print $2}' "$T/c1.want")\$" "$OUT" || fail "case show: status"
grep -qE "^kind +$(awk '$1 == "kind" {print $2}' "$T/c1.want")\$" "$OUT" || fail "case show: kind"
cp "$OUT" "$T/show.report"
run 0 "case show from the feeds" "${BCLI[@]}" "${NOREP[@]}" case show "$c1"
for k in kind status received "receiving agency" "handling agency" "next due" overdue; do
	[ "$(grep "^$k  " "$OUT")" = "$(grep "^$k  " "$T/show.report")" ] ||
		fail "case show: \"$k\" differs between the report service and the feeds"
done
run 0 "case show --json" "${BCLI[@]}" case show "$c1" --json
has "$OUT" "\"kind\":\"PETITION_KIND_$(awk '$1 == "kind" {print $2}' "$T/c1.want")\"" "case show --json"
has "$OUT" "\"case_number\":\"$c1\"" "case show --json: the case"
run 4 "case show of an unknown case" "${BCLI[@]}" case show DN-STC-2026-000009
run 0 "case history via the report service" "${BCLI[@]}" case history "$c1" --no-fallback
[ "$(wc -l <"$OUT")" -eq "$(awk '$1 == "events" {print $2}' "$T/c1.want")" ] ||
	fail "history: $(wc -l <"$OUT") events, want $(awk '$1 == "events" {print $2}' "$T/c1.want")"
[ "$(awk '{print $3, $4}' "$OUT" | sort)" = "$(awk '$1 == "event" {print $2, $3}' "$T/c1.want" | sort)" ] ||
	fail "history: not the case's events of the three feeds"
has "$OUT" "deadline_changed" "history has deadline_changed"
has "$OUT" "case_action" "history has the actions"
run 0 "case explain via the report service" "${BCLI[@]}" case explain "$c1" --no-fallback
while IFS= read -r want; do
	has "$OUT" "${want#has }" "explain"
done < <(grep '^has ' "$T/c1.want")
cp "$OUT" "$T/explain.report"
run 0 "case explain falls back to the deadline feed" "${BCLI[@]}" "${NOREP[@]}" case explain "$c1"
has "$ERR" "reading the deadline feed instead" "explain fallback note"
cmp -s "$OUT" "$T/explain.report" || fail "explain from the deadline feed differs from the report service's"
"$PY" "$T/case.py" "$T" "$c2" >"$T/c2.want"
grep -q 'days before due; ' "$T/c2.want" || fail "no early warning for $c2 on the deadline feed"
run 0 "case explain of another case from the deadline feed" "${BCLI[@]}" "${NOREP[@]}" case explain "$c2"
while IFS= read -r want; do
	has "$OUT" "${want#has }" "explain $c2"
done < <(grep '^has ' "$T/c2.want")
n=$(grep -c "\"case_number\": \"$c2\"" "$T/deadline.jsonl")
run 0 "case explain --json from the deadline feed" "${BCLI[@]}" "${NOREP[@]}" case explain "$c2" --json
[ "$(wc -l <"$OUT")" -eq "$n" ] || fail "explain --json: $(wc -l <"$OUT") events, want $n"
run 4 "case explain of a case without deadline events (fallback)" "${BCLI[@]}" "${NOREP[@]}" case explain DN-SXD-2026-000001
has "$ERR" "no deadline events" "explain fallback: no events"

# ------------------------------------------------------------ report ---
RQ=(report 01/XLD --agency DN-STC --period 2026-Q1)
run 0 "report --json" "${BCLI[@]}" "${RQ[@]}" --json
cp "$OUT" "$T/r.json"
# What the table must show, from the JSON; and the Sở Tài chính's total of
# petitions to handle, (1), must be the two it received.
"$PY" - "$T/r.json" "$T/intake.jsonl" >"$T/r.want" <<'EOF' || fail "report --json: $(cat "$T/r.want")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["form"] == "01/XLD" and r["agency"] == "DN-STC", r
received = sum(1 for l in open(sys.argv[2]) if json.loads(l).get("petition_received", {})
               .get("petition", {}).get("receiving_agency") == "DN-STC")
own = [row for row in r["rows"] if not row.get("total")][0]
v = own["cells"][0]
assert (v["i"] if isinstance(v, dict) else v) == received, (own, received)
c = r["columns"][0]
print(r["title"])
print("(%s) %s | %s" % (c["number"], c["group"], c["title"]) if c.get("group") else "(%s) %s" % (c["number"], c["title"]))
print(own["label"])
print([row for row in r["rows"] if row.get("total")][0]["label"])
EOF
run 0 "report as a table" "${BCLI[@]}" "${RQ[@]}" --layout wide
has "$OUT" "$(sed -n 1p "$T/r.want")" "report title"
has "$OUT" "$(sed -n 2p "$T/r.want")" "report column legend"
# Aligned by display width: every value column ends in the same place.
w1=$(grep "^$(sed -n 3p "$T/r.want")" "$OUT" | "$PY" -c 'import sys; print(len(sys.stdin.read().rstrip("\n")))')
w2=$(grep "^$(sed -n 4p "$T/r.want")" "$OUT" | "$PY" -c 'import sys; print(len(sys.stdin.read().rstrip("\n")))')
[ "$w1" -gt 0 ] && [ "$w1" = "$w2" ] || fail "rows are not aligned ($w1 vs $w2 characters)"
run 0 "report --layout tall" "${BCLI[@]}" "${RQ[@]}" --layout tall
# A value column per row, headed by its agency, the total by its label.
[ "$(grep '^no\. ' "$OUT" | tr -s ' ')" = "no. column DN-STC $(sed -n 4p "$T/r.want")" ] ||
	fail "tall layout: headings $(grep '^no\. ' "$OUT")"
run 0 "report --csv" "${BCLI[@]}" "${RQ[@]}" --csv
[ "$(head -c 3 "$OUT" | od -An -tx1 | tr -d ' ')" = "efbbbf" ] || fail "CSV starts with a BOM"
has "$OUT" "$(sed -n 3p "$T/r.want")" "CSV content"
run 0 "report --xlsx" "${BCLI[@]}" "${RQ[@]}" --xlsx "$T/r.xlsx"
"$PY" -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; assert "xl/workbook.xml" in z.namelist(), z.namelist()' "$T/r.xlsx" ||
	fail "the xlsx is not a valid workbook"
run 4 "report of an unknown form" "${BCLI[@]}" report 99/ZZ --agency DN-STC --period 2026-Q1
run 4 "report of an unknown agency" "${BCLI[@]}" report 01/XLD --agency DN-NOPE --period 2026-Q1
run 2 "report with a bad period" "${BCLI[@]}" report 01/XLD --agency DN-STC --period 2026-13-01..2026-01-01
run 2 "report without --agency" "${BCLI[@]}" report 01/XLD --period 2026-Q1
run 0 "report with dates" "${BCLI[@]}" report 01/XLD --agency DN-STC --period 2026-01-01..2026-06-30 --json
"$PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); assert (r["from_date"], r["to_date"]) == ("2026-01-01", "2026-06-30"), r' "$OUT" ||
	fail "report with dates: not that period"

# ------------------------------------------------------------ status ---
ih=$(feedq head "ipc://$B/intake-feed.sock")
run 0 "status with intake, deadline and report" "${BCLI[@]}" status --service intake,deadline,report
for s in intake deadline report; do
	grep -qE "^$s +ok" "$OUT" || fail "status: $s not ok"
done
grep -qE "^deadline .* intake $ih/$ih, 0; routing " "$OUT" || fail "status: deadline's position in the intake feed"
! grep -q '^routing' "$OUT" || fail "status: routing was not asked"

for s in intake routing deadline report; do stop $s; done
pids=("$intake_pid")

# ---------------------------------------------------------------- CURVE ---
# A second intake with CURVE on: the CLI's keys from --curve-dir get in, a
# plain client gets nothing.
GENKEYS=$R/scripts/gen-keys
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
pids=()
run 3 "submit with intake stopped" "${CLI[@]}" submit "$T/good.json"
has "$ERR" "donthu-intake running" "unreachable message says what to do"
run 3 "status with intake stopped" "${CLI[@]}" status --service intake

if [ $fails -ne 0 ]; then
	echo "cli_test: $fails failure(s)"
	exit 1
fi
echo "cli_test: all passed"
