#!/usr/bin/env bash
# Set up, then repair the bundled example (AP article 000 with four other outlets' copies as references).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ex=examples/ap-syria
mkdir -p out
repair fix "$ex"/000_*.txt \
  --ref "$ex"/001_*.txt --ref "$ex"/002_*.txt --ref "$ex"/003_*.txt --ref "$ex"/004_*.txt \
  --out out/000.repaired.txt --edits out/000.edits.json --report out/000.report.html
