#!/usr/bin/env bash
# npm run test:slurm: start a one-node SLURM (scripts/slurm-up.sh), run
# test/slurm/, and stop the daemons it started whatever the outcome.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/slurm-up.sh || { echo "test:slurm: SLURM could not be started (see above)" >&2; exit 1; }
trap 'bash scripts/slurm-down.sh' EXIT
node --import tsx --test test/slurm/*.test.ts
