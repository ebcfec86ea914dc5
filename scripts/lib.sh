# Shared by scripts/test.sh and scripts/run.sh (sourced, not run).

# cd to the repository root, whatever directory the script was started from.
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# uv manages the virtualenv from pyproject.toml + uv.lock; install it with pip when missing.
ensure_uv() {
  if ! command -v uv >/dev/null; then
    echo "uv not found, installing it with pip" >&2
    python3 -m pip install --quiet uv || python3 -m pip install --quiet --user uv
    export PATH="$HOME/.local/bin:$PATH"
  fi
  uv sync --frozen --quiet
}
