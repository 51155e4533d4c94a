# Shared by the shell integration tests (sourced): the checks they report
# with. The caller sets fails=0, OUT and ERR (where run() keeps a command's
# output) and reads $fails at the end.

# fail MESSAGE: counts a failed check and shows the last command's output.
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
