#!/bin/sh
# Warm `repair fix` of the bundled example with its 4 references, 1 thread, with the code of CODE_DIR
# (a worktree of another commit, to time two commits side by side):
#   farm-bench -n 5 --warmup 1 --vs "benchmarks/warm_fix.sh /tmp/before" -- benchmarks/warm_fix.sh "$PWD"
# The example is read from this script's own checkout, so both sides repair the same files.
set -eu
code=$(cd "${1:?usage: warm_fix.sh CODE_DIR}" && pwd)
ex=$(cd "$(dirname "$0")/../examples/ap-syria" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$code"
OMP_NUM_THREADS=1 PYTHONPATH="$code" python -m repair fix "$ex"/000_*.txt \
    --ref "$ex"/001_*.txt --ref "$ex"/002_*.txt --ref "$ex"/003_*.txt --ref "$ex"/004_*.txt \
    --out "$out/o.txt" --edits "$out/o.json" --report "$out/o.html"
