#!/usr/bin/env bash
# Regenerate docs/report.png (1400 px wide, the first substitution's card open), docs/report-cards.png (1400 px,
# the edit cards) and docs/report-narrow.png (400 px, the top of the page): headless-Chromium screenshots of the
# example's report (out/000.report.html, written by scripts/example.sh).
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
for shot in "report.png 1400,1000 ${edit:+#edit-$edit}" "report-narrow.png 400,1000"; do
  set -- $shot ""
  chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --disable-quic --user-data-dir="$profile" \
    --hide-scrollbars --window-size="$2" --screenshot="$PWD/docs/$1" \
    "file://$PWD/$report$3" 2>/dev/null
  echo "docs/$1 ($2) from $report$3"
done
# headless Chromium's --screenshot draws a page scrolled far down as blank: the cards are shot through WebDriver
if command -v chromedriver >/dev/null && python3 -c "import selenium" 2>/dev/null; then
  python3 - "$PWD/$report" "$PWD/docs/report-cards.png" <<'PY'
import shutil
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

options = webdriver.ChromeOptions()
options.binary_location = shutil.which("chromium") or ""
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,1000"):
    options.add_argument(flag)
driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
try:
    driver.get("file://" + sys.argv[1])
    driver.execute_script("document.getElementById('edits').scrollIntoView()")
    driver.save_screenshot(sys.argv[2])
finally:
    driver.quit()
PY
  echo "docs/report-cards.png (1400,1000) from $report, scrolled to the edit cards"
fi
