#!/usr/bin/env bash
# Regenerate docs/report.png (1400 px wide) and docs/report-narrow.png (400 px): headless-Chromium screenshots of
# the example's report (out/000.report.html, written by scripts/example.sh), the first substitution's card open.
set -euo pipefail
cd "$(dirname "$0")/.."
report=${1:-out/000.report.html}
if [ ! -f "$report" ]; then
  echo "screenshot: $report not found: run scripts/example.sh first" >&2
  exit 2
fi
bash scripts/setup-browser.sh
command -v chromium >/dev/null || { echo "screenshot: chromium is not installed" >&2; exit 2; }
edit=$(grep -o 'id="in-[0-9]*" class="e k-substitution' "$report" | head -1 | sed 's/id="in-\([0-9]*\)".*/\1/' || true)
# the page numbers edits from 1 (#edit-N), its element ids from 0
edit=${edit:+$((edit + 1))}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
mkdir -p docs
for shot in "report.png 1400,1000" "report-narrow.png 400,1000"; do
  set -- $shot
  chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --disable-quic --user-data-dir="$profile" \
    --hide-scrollbars --window-size="$2" --screenshot="$PWD/docs/$1" \
    "file://$PWD/$report${edit:+#edit-$edit}" 2>/dev/null
  echo "docs/$1 ($2) from $report${edit:+ (edit $edit open)}"
done
