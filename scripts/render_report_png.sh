#!/bin/sh
# Render report.html to a PNG with headless Chromium, for a person (or a CI artifact) to look at.
# Usage: scripts/render_report_png.sh REPORT_HTML OUT_PNG
# Page size: WIDTH (default 1280) and HEIGHT in the environment; without HEIGHT the page is sized to hold
# the matrix and every case section (capped at 16000 px, Chromium's largest screenshot).
set -eu

if [ "$#" -ne 2 ]; then
    echo "usage: $0 REPORT_HTML OUT_PNG" >&2
    exit 2
fi
html=$1
out=$2
if [ ! -f "$html" ]; then
    echo "$0: $html: no such file (make it with: rig report DIR)" >&2
    exit 2
fi

browser=""
for candidate in chromium chromium-browser google-chrome; do
    if command -v "$candidate" >/dev/null 2>&1; then
        browser=$candidate
        break
    fi
done
if [ -z "$browser" ]; then
    echo "$0: chromium is not installed; on Debian / Raspberry Pi OS: sudo apt-get install -y chromium" >&2
    exit 3
fi

if [ -z "${HEIGHT:-}" ]; then
    cases=$(grep -c '<section class="case' "$html" || true)
    HEIGHT=$((900 + cases * 760))
    if [ "$HEIGHT" -gt 16000 ]; then
        HEIGHT=16000
    fi
fi

abs_html=$(cd "$(dirname "$html")" && pwd)/$(basename "$html")
case "$out" in
    /*) abs_out=$out ;;
    *) abs_out=$(pwd)/$out ;;
esac
# Chromium refuses to run as root with its sandbox (CI containers); the page is a local file without scripts.
sandbox=""
if [ "$(id -u)" = "0" ]; then
    sandbox="--no-sandbox"
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT INT TERM
rm -f "$abs_out"
# shellcheck disable=SC2086
"$browser" --headless $sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" \
    --window-size="${WIDTH:-1280},$HEIGHT" --screenshot="$abs_out" "file://$abs_html" >/dev/null 2>&1 || true
if [ ! -s "$abs_out" ]; then
    echo "$0: $browser wrote no screenshot to $abs_out" >&2
    exit 1
fi
echo "$abs_out"
