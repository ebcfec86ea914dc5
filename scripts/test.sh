#!/usr/bin/env bash
# The whole test run: lint, then the pytest suite on SQLite and again on PostgreSQL.
#   scripts/test.sh [extra pytest arguments, passed to both runs]
# Every step runs even when an earlier one fails, so one run shows everything; the exit code is
# non-zero when any step failed.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Second stage, run by with-test-services.py once PostgreSQL and Redis are up.
if [ "${1:-}" = "--inside-services" ]; then
  shift
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  failed=0
  suite() { # suite NAME DATABASE_URL [pytest args...]
    local name=$1 url=$2 rc
    shift 2
    echo "=== pytest on $name ==="
    # A VAR_DIR per run keeps the Celery queue, cache and secret key of each run apart and out of var/.
    mkdir -p "$tmp/$name"
    DATABASE_URL=$url VAR_DIR=$tmp/$name uv run --frozen pytest -q "$@"
    rc=$?
    # pytest exit code 5 (no tests collected) counts as a failure like any other non-zero code.
    if [ "$rc" -eq 0 ]; then summary+=("$name: passed"); else summary+=("$name: FAILED (pytest exit $rc)"); failed=1; fi
  }
  summary=()
  suite SQLite "sqlite:///$tmp/test.sqlite3" "$@"
  suite PostgreSQL "$TEST_POSTGRES_URL" "$@"
  printf '%s\n' "${summary[@]}" >"$SUMMARY_FILE"
  exit "$failed"
fi

export DJANGO_ENV=test
# Settings must come from this script only, not from the developer's shell.
unset DATABASE_URL REDIS_URL VAR_DIR SECRET_KEY DEBUG

ensure_uv || { echo "test: uv sync failed" >&2; exit 1; }
scripts/install-system-packages.sh postgres redis chromium || exit 1

summary=()
step() { # step NAME command...: run it and record the outcome for the summary
  local name=$1
  shift
  if "$@"; then summary+=("$name: passed"); else summary+=("$name: FAILED"); status=1; fi
}
status=0
step "ruff check" uv run --frozen ruff check .
step "ruff format" uv run --frozen ruff format --check .

SUMMARY_FILE=$(mktemp)
trap 'rm -f "$SUMMARY_FILE"' EXIT
export SUMMARY_FILE
uv run --frozen python scripts/with-test-services.py -- bash scripts/test.sh --inside-services "$@" || status=1
if [ -s "$SUMMARY_FILE" ]; then
  mapfile -t -O "${#summary[@]}" summary <"$SUMMARY_FILE"
else
  summary+=("tests: FAILED (test services did not start, or the run was interrupted)")
fi

echo
printf '%s\n' "${summary[@]}"
exit "$status"
