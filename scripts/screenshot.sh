#!/usr/bin/env bash
# Regenerate docs/report.png: a headless-Chromium screenshot of the example's report (out/000.report.html,
# written by scripts/example.sh), with the evidence of the first substitution open.
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
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
mkdir -p docs
chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --disable-quic --user-data-dir="$profile" \
  --hide-scrollbars --window-size=1400,1000 --screenshot="$PWD/docs/report.png" \
  "file://$PWD/$report${edit:+#edit-$edit}" 2>/dev/null
echo "docs/report.png from $report${edit:+ (evidence of edit $edit open)}"
