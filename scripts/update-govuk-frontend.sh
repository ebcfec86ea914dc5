#!/usr/bin/env bash
# Re-vendor GOV.UK Frontend into static/govuk/ (committed: the app needs no npm or CDN to run).
#
#   scripts/update-govuk-frontend.sh            # the pinned version below
#   GOVUK_FRONTEND_VERSION=6.7.0 scripts/update-govuk-frontend.sh
#
# What it does: installs govuk-frontend and sass from the npm registry into a temporary directory,
# compiles static/src/govuk.scss (GOV.UK Frontend with system fonts: the GDS Transport typeface and
# the crown are reserved for services on GOV.UK) to static/govuk/govuk-frontend.min.css, and copies
# the JavaScript bundle and images. Fonts are deliberately not copied.
# Also refreshes tests/web/vendor/axe.min.js (axe-core, for the accessibility checks in the tests).
set -euo pipefail

GOVUK_FRONTEND_VERSION="${GOVUK_FRONTEND_VERSION:-6.6.0}"
AXE_CORE_VERSION="${AXE_CORE_VERSION:-4.14.1}"
SASS_VERSION="${SASS_VERSION:-1.108.2}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent \
  "govuk-frontend@${GOVUK_FRONTEND_VERSION}" "sass@${SASS_VERSION}" "axe-core@${AXE_CORE_VERSION}"

DIST="$WORK/node_modules/govuk-frontend/dist/govuk"
OUT="$ROOT/static/govuk"
rm -rf "$OUT"
mkdir -p "$OUT/assets"
npx sass --load-path=node_modules --style=compressed --no-source-map \
  "$ROOT/static/src/govuk.scss" "$OUT/govuk-frontend.min.css"
cp "$DIST/govuk-frontend.min.js" "$OUT/"
cp -R "$DIST/assets/images" "$OUT/assets/images"
cp "$DIST/assets/manifest.json" "$OUT/assets/"
echo "$GOVUK_FRONTEND_VERSION" > "$OUT/VERSION"

mkdir -p "$ROOT/tests/web/vendor"
cp "$WORK/node_modules/axe-core/axe.min.js" "$ROOT/tests/web/vendor/axe.min.js"
echo "$AXE_CORE_VERSION" > "$ROOT/tests/web/vendor/AXE_VERSION"
echo "GOV.UK Frontend ${GOVUK_FRONTEND_VERSION} vendored into static/govuk; axe-core ${AXE_CORE_VERSION} into tests/web/vendor."
