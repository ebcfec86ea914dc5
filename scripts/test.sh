#!/usr/bin/env bash
# The whole test run: lint, then the pytest suite on SQLite and again on PostgreSQL.
#   scripts/test.sh [extra pytest arguments, passed to both runs]
# Every step runs even when an earlier one fails, so one run shows everything; the exit code is
# non-zero when any step failed. Each step adds its line to the summary printed at the end.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

record() { echo "$1" >>"$SUMMARY_FILE"; }

# Second stage, run by with-test-services.py once PostgreSQL and Redis are up.
if [ "${1:-}" = "--inside-services" ]; then
  shift
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  failed=0
  for db in SQLite PostgreSQL; do
    echo "=== pytest on $db ==="
    if [ "$db" = SQLite ]; then url=sqlite:///$tmp/test.sqlite3; else url=$TEST_POSTGRES_URL; fi
    # A VAR_DIR per run keeps each run's Celery queue, cache and secret key apart and out of var/.
    mkdir -p "$tmp/$db/tmp"
    # --basetemp: pytest's tmp_path directories go with the run's own temporary directory; so does
    # everything else made in "the" temporary directory (TMPDIR), such as the pymp-* directories
    # of Celery workers the reliability tests start and kill.
    DATABASE_URL=$url VAR_DIR=$tmp/$db TMPDIR=$tmp/$db/tmp \
      uv run --frozen pytest -q --basetemp="$tmp/$db/pytest" "$@"
    rc=$?
    # Any non-zero code fails, including 5 (no tests collected).
    if [ "$rc" -eq 0 ]; then record "$db: passed"; else record "$db: FAILED (pytest exit $rc)"; failed=1; fi
    # Interrupted (Ctrl-C: pytest's 2, or killed by a signal): stop rather than start the next run.
    if [ "$rc" -eq 2 ] || [ "$rc" -ge 128 ]; then exit 130; fi
  done
  exit "$failed"
fi

export DJANGO_ENV=test
# Settings come from this script, not from whatever the developer's shell has set.
unset DATABASE_URL REDIS_URL VAR_DIR SECRET_KEY DEBUG

ensure_uv || { echo "test: uv sync failed" >&2; exit 1; }
scripts/install-system-packages.sh postgres redis chromium || exit 1

SUMMARY_FILE=$(mktemp)
export SUMMARY_FILE
trap 'rm -f "$SUMMARY_FILE"' EXIT
status=0
step() { # step NAME COMMAND...
  local name=$1
  shift
  if "$@"; then record "$name: passed"; else record "$name: FAILED"; status=1; fi
}
step "ruff check" uv run --frozen ruff check .
step "ruff format" uv run --frozen ruff format --check .
uv run --frozen python scripts/with-test-services.py -- bash scripts/test.sh --inside-services "$@" \
  || status=1
# Neither database reported: the services did not start or the run was cut short.
grep -q '^SQLite:' "$SUMMARY_FILE" || record "tests: FAILED (did not run, see above)"

echo
cat "$SUMMARY_FILE"
exit "$status"
