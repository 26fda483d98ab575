#!/usr/bin/env bash
# Runs the end-to-end suite against real Dovecot and Postfix:
#   bash e2e/run.sh                      # all e2e tests
#   bash e2e/run.sh -run TestMailStack   # extra arguments go to `go test`
# Starts the stack (installing the packages if missing) in $E2E_DIR or a fresh
# temp dir, runs `go test -tags e2e -count=1 -v ./e2e/...`, stops the stack and
# exits with go test's status. On failure it prints the tail of the Postfix and
# Dovecot logs and keeps a temp dir for inspection.
set -euo pipefail
cd "$(dirname "$0")/.."

created=
if [ -n "${E2E_DIR:-}" ]; then
	dir=$E2E_DIR
else
	dir=$(mktemp -d /tmp/helpdeskd-e2e.XXXXXX)
	created=1
fi

status=1
cleanup() {
	bash e2e/mailstack.sh stop "$dir" || true
	if [ -n "$created" ]; then
		if [ "$status" -eq 0 ]; then
			rm -rf -- "$dir"
		else
			echo "run.sh: keeping $dir for inspection" >&2
		fi
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash e2e/mailstack.sh start "$dir"
# shellcheck disable=SC1091
. "$dir/env"

status=0
go test -tags e2e -count=1 -v ./e2e/... "$@" || status=$?

if [ "$status" -ne 0 ]; then
	echo "== last 50 lines of the postfix log ($E2E_POSTFIX_LOG)"
	tail -n 50 "$E2E_POSTFIX_LOG" 2>/dev/null || true
	echo "== last 50 lines of the dovecot log ($E2E_DOVECOT_LOG)"
	tail -n 50 "$E2E_DOVECOT_LOG" 2>/dev/null || true
fi
exit "$status"
