#!/usr/bin/env bash
# Debian packages the test suite needs besides Python: zbar-tools (zbarimg) and poppler-utils
# (pdftoppm, pdftotext) to scan printed labels back, chromium for the browser tests.
# Idempotent: installs only what is missing, and runs apt-get update only then.
set -euo pipefail

missing=()
command -v zbarimg >/dev/null 2>&1 || missing+=(zbar-tools)
{ command -v pdftoppm >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1; } || missing+=(poppler-utils)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)

if ((${#missing[@]} == 0)); then
    exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "system-deps: missing ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
    exit 1
fi

echo "system-deps: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
