#!/usr/bin/env bash
# Install what the browser tests (tests/browser) and the screenshot script need: Debian's
# Chromium, its chromedriver and a Chinese font. Does nothing when they are already there.
#
# Usage: scripts/install-browser.sh   (as root, or with them installed beforehand)
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
fonts="$(fc-list 2>/dev/null || true)"
grep -qi "wenquanyi\|noto sans cjk" <<<"$fonts" || missing+=(fonts-wqy-zenhei)
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]} for the browser tests"
    apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null
else
    echo "the browser tests need: apt-get install ${missing[*]} (Debian/Ubuntu)" >&2
    exit 1
fi
