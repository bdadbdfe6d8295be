#!/usr/bin/env bash
# Vendor the browser scripts the handheld pages load (htmx) into wms/web/static/vendor/.
# Idempotent: `npm ci` runs only when node_modules/ is missing or older than package-lock.json;
# the copy is skipped when the vendored file is already identical.
set -euo pipefail
cd "$(dirname "$0")/.."

SRC=node_modules/htmx.org/dist/htmx.min.js
DEST_DIR=wms/web/static/vendor
DEST=$DEST_DIR/htmx.min.js

if [[ ! -d node_modules || package-lock.json -nt node_modules || ! -f $SRC ]]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "scripts/vendor.sh: npm is not installed; install Node.js 20+ (with npm) to fetch htmx for the handheld UI" >&2
        exit 1
    fi
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
    touch node_modules  # npm ci may leave the directory's mtime older than the lock file
fi

if [[ ! -f $SRC ]]; then
    echo "scripts/vendor.sh: $SRC is missing after npm ci" >&2
    exit 1
fi

mkdir -p "$DEST_DIR"
if ! cmp -s "$SRC" "$DEST"; then
    cp "$SRC" "$DEST"
fi
version=$(node -p "require('./node_modules/htmx.org/package.json').version" 2>/dev/null || echo "?")
echo "vendored htmx $version -> $DEST"
