#!/usr/bin/env bash
# Execute every notebook in examples/ the way a user would (Debian's
# jupyter-nbconvert, the python3 kernel of python3-ipykernel, with
# python3-matplotlib and python3-pandas): each runs the built CLI itself with
# small sizes. A notebook that raises fails this script. The committed
# notebooks stay without outputs: the executed copies go to a temporary
# directory (test/integration/python-io.test.ts checks that the committed ones have none).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/cli/main.js ] || { echo "test-notebooks: dist/cli/main.js is missing; run npm ci (or npm run build) first" >&2; exit 1; }
command -v jupyter-nbconvert >/dev/null 2>&1 || { echo "test-notebooks: jupyter-nbconvert not found (apt-get install jupyter-nbconvert python3-ipykernel python3-matplotlib python3-pandas)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
passed=0 failed=0
for nb in examples/*.ipynb; do
  t0=$SECONDS
  if jupyter-nbconvert --to notebook --execute --ExecutePreprocessor.timeout=300 --output-dir "$out" "$nb" >"$out/log" 2>&1; then
    echo "ok $nb ($((SECONDS - t0)) s)"
    passed=$((passed + 1))
  else
    echo "FAILED $nb ($((SECONDS - t0)) s):"
    grep -v "^0.00s - " "$out/log" | tail -40
    failed=$((failed + 1))
  fi
done
echo "notebooks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
