#!/usr/bin/env bash
# Runs the end-to-end suite: starts real Dovecot and Postfix on loopback
# ports (installing them if missing), runs `go test -tags e2e ./e2e/...`
# against the built helpdeskd binary, and stops the servers.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${E2E_DIR:-$(mktemp -d /tmp/helpdeskd-e2e.XXXXXX)}
# The mail user must be able to reach DIR.
chmod 755 "$dir"
stop() {
	bash e2e/mailstack.sh stop "$dir" >/dev/null 2>&1 || true
}
trap stop EXIT
bash e2e/mailstack.sh start "$dir"
# shellcheck disable=SC1091
source "$dir/env"
status=0
go test -tags e2e -count=1 -v ./e2e/... || status=$?
if [ "$status" -ne 0 ]; then
	echo "== last lines of the postfix log"; tail -n 50 "${E2E_POSTFIX_LOG:-/dev/null}" || true
	echo "== last lines of the dovecot log"; tail -n 50 "${E2E_DOVECOT_LOG:-/dev/null}" || true
fi
exit "$status"
