# shellcheck shell=bash
# bench/pipeline/stack.sh - sourced by bench/pipeline/run and bench/scale/run:
# the four real services on ipc:// sockets in one folder, simulated clock,
# as scripts/demo and tests/integration/backup_test lay them out:
#   $D/submit.sock $D/intake-feed.sock $D/routing-feed.sock
#   $D/deadline-feed.sock $D/deadline-pub.sock $D/report.sock
#   $D/<svc>/ (data folder, admin.sock)   $D/<svc>.log
# Needs: $ROOT (the source tree), $BUILD (absolute build tree), $STACK_START
# (RFC 3339). Sets SPID[svc]; stack_stop ends only those pids.
# stack_select picks part of the pipeline (SVCS); the default is all four.

SVCS=(intake routing deadline report)
declare -A SPID

# Start only the services listed (comma-separated), kept in pipeline order:
# a consumer whose producer is not started simply sees nothing from it.
# Intake is always needed (it is where the petitions go in). Returns 1 and
# says why for an unknown name or a list without intake.
stack_select() { # list
	local want=",$1," s
	local -a sel=()
	for s in ${1//,/ }; do
		case $s in
		intake | routing | deadline | report) ;;
		*) echo "stack: unknown service \"$s\" (intake, routing, deadline, report)" >&2; return 1 ;;
		esac
	done
	for s in intake routing deadline report; do
		[[ $want == *",$s,"* ]] && sel+=("$s")
	done
	if [[ $want != *",intake,"* ]]; then
		echo "stack: \"$1\" has no intake: nothing would go in" >&2
		return 1
	fi
	SVCS=("${sel[@]}")
}

# The started services as a comma-separated list.
stack_list() { (IFS=,; echo "${SVCS[*]}"); }

stack_env() { # svc dir
	local D=$2
	case $1 in
	intake) echo DONTHU_INTAKE_DATA_DIR="$D/intake" DONTHU_INTAKE_LISTEN="ipc://$D/submit.sock" \
		DONTHU_INTAKE_FEED_LISTEN="ipc://$D/intake-feed.sock" DONTHU_INTAKE_HTTP_PORT=0 \
		DONTHU_INTAKE_REGISTER_DIR="$ROOT/data/register" DONTHU_INTAKE_IDENTITY_KEYS_DIR="$D/keys" \
		DONTHU_INTAKE_CLOCK=simulated DONTHU_INTAKE_CLOCK_START="$STACK_START" ;;
	routing) echo DONTHU_ROUTING_DATA_DIR="$D/routing" DONTHU_ROUTING_FEED_LISTEN="ipc://$D/routing-feed.sock" \
		DONTHU_ROUTING_INTAKE_FEED="ipc://$D/intake-feed.sock" DONTHU_ROUTING_HTTP_PORT=0 \
		DONTHU_ROUTING_REGISTER_DIR="$ROOT/data/register" DONTHU_ROUTING_RULES_FILE="$ROOT/data/routing/rules.json" \
		DONTHU_ROUTING_CLOCK=simulated DONTHU_ROUTING_CLOCK_START="$STACK_START" ;;
	deadline) echo DONTHU_DEADLINE_DATA_DIR="$D/deadline" DONTHU_DEADLINE_FEED_LISTEN="ipc://$D/deadline-feed.sock" \
		DONTHU_DEADLINE_PUB_LISTEN="ipc://$D/deadline-pub.sock" DONTHU_DEADLINE_HTTP_PORT=0 \
		DONTHU_DEADLINE_INTAKE_FEED="ipc://$D/intake-feed.sock" DONTHU_DEADLINE_ROUTING_FEED="ipc://$D/routing-feed.sock" \
		DONTHU_DEADLINE_CALENDAR_DIR="$ROOT/data/calendar" DONTHU_DEADLINE_POLICY_FILE="$ROOT/data/policy/deadline-policy.json" \
		DONTHU_DEADLINE_CLOCK=simulated DONTHU_DEADLINE_CLOCK_START="$STACK_START" ;;
	report) echo DONTHU_REPORT_DATA_DIR="$D/report" DONTHU_REPORT_LISTEN="ipc://$D/report.sock" \
		DONTHU_REPORT_HTTP_PORT=0 DONTHU_REPORT_INTAKE_FEED="ipc://$D/intake-feed.sock" \
		DONTHU_REPORT_ROUTING_FEED="ipc://$D/routing-feed.sock" DONTHU_REPORT_DEADLINE_FEED="ipc://$D/deadline-feed.sock" \
		DONTHU_REPORT_REGISTER_DIR="$ROOT/data/register" DONTHU_REPORT_FORMS_DIR="$ROOT/data/forms" \
		DONTHU_REPORT_CLOCK=simulated DONTHU_REPORT_CLOCK_START="$STACK_START" ;;
	esac
}

# The donthu CLI pointed at the stack in $1.
stack_cli() { # dir args...
	local D=$1
	shift
	"$BUILD/tools/donthu/donthu" --data-dir "$D" --intake "ipc://$D/submit.sock" \
		--intake-feed "ipc://$D/intake-feed.sock" --routing "ipc://$D/routing-feed.sock" \
		--deadline "ipc://$D/deadline-feed.sock" --deadline-pub "ipc://$D/deadline-pub.sock" \
		--report "ipc://$D/report.sock" "$@"
}

# Start the services of SVCS on a fresh folder $1 and wait until all answer.
stack_start() { # dir
	local D=$1 s
	mkdir -p "$D/keys"
	if [ ! -f "$D/keys/1.key" ]; then
		(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$D/keys/1.key" && echo >>"$D/keys/1.key")
	fi
	for s in "${SVCS[@]}"; do
		# shellcheck disable=SC2046
		env DONTHU_LOG=warn $(stack_env "$s" "$D") "$BUILD/services/$s/donthu-$s" 2>>"$D/$s.log" &
		SPID[$s]=$!
	done
	for _ in $(seq 1 300); do
		stack_cli "$D" status --service "$(stack_list)" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "stack: the services did not come up in $D:" >&2
	tail -n 3 "$D"/*.log >&2
	return 1
}

stack_stop() {
	local s rc=0
	for s in "${!SPID[@]}"; do
		kill -TERM "${SPID[$s]}" 2>/dev/null || true
	done
	for s in "${!SPID[@]}"; do
		wait "${SPID[$s]}" 2>/dev/null || rc=1
		unset "SPID[$s]"
	done
	return $rc
}

# Kill whatever is left (trap on exit): only the pids started here.
stack_kill() {
	local s
	for s in "${!SPID[@]}"; do kill -9 "${SPID[$s]}" 2>/dev/null || true; done
	wait 2>/dev/null || true
}

# "VmRSS VmHWM RssAnon" of a pid, in MB (RSS counts the mapped store pages
# the process touched; RssAnon is its own memory).
stack_rss() { # pid
	awk '$1 == "VmRSS:" {r = $2} $1 == "VmHWM:" {h = $2} $1 == "RssAnon:" {a = $2}
	     END {printf "%d %d %d", r / 1024, h / 1024, a / 1024}' "/proc/$1/status"
}

median() { sort -n | awk '{a[NR]=$1} END {printf "%s (min %s, max %s)", a[int((NR+1)/2)], a[1], a[NR]}'; }
