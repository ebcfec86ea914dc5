#!/usr/bin/env bash
# Run the product locally: the web server and a Celery worker with beat, side by side, on the
# embedded defaults (SQLite and the Celery filesystem queue under var/; nothing to configure).
#   scripts/run.sh            # then open http://127.0.0.1:8000/ (PORT=8001 scripts/run.sh to move it)
# Ctrl-C stops both. If either process dies, the other is stopped too and the script fails.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

port=${PORT:-8000}
export SITE_URL=${SITE_URL:-http://127.0.0.1:$port}
ensure_uv
uv run --frozen python manage.py migrate --noinput
uv run --frozen python manage.py seed_demo # prints the demo logins

# Job control gives each background job its own process group, so that stopping one can also stop
# the processes it started (runserver's autoreloader child, Celery's pool), and Ctrl-C in the
# terminal reaches only this script, which then stops both in order.
set -m
uv run --frozen python manage.py runserver "127.0.0.1:$port" &
web=$!
uv run --frozen celery -A vru worker --beat --loglevel=info --concurrency=2 &
worker=$!
set +m

stopping=0
stop() {
  [ "$stopping" -eq 1 ] && return
  stopping=1
  trap '' INT TERM
  # The whole web group (runserver's autoreloader leaves its child behind otherwise), but only
  # Celery's main process (uv passes the signal on): it finishes or hands back running tasks and
  # stops its own pool; signalling the pool directly would kill tasks mid-way.
  kill -TERM -- "-$web" "$worker" 2>/dev/null || true
  for _ in $(seq 1 30); do # up to 15 s, then force
    kill -0 -- "-$web" 2>/dev/null || kill -0 -- "-$worker" 2>/dev/null || break
    sleep 0.5
  done
  kill -KILL -- "-$web" "-$worker" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM

echo "VRU Case Coordination: http://127.0.0.1:$port/ (Ctrl-C to stop)"
# Returns as soon as either process exits; running normally, neither should.
set +e
wait -n "$web" "$worker"
rc=$?
echo "run: a process exited (code $rc); stopping the other" >&2
stop
exit $((rc == 0 ? 1 : rc))
