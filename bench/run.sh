#!/bin/sh
# The whole benchmark in one command: installs wrk, Prism and matplotlib if missing,
# runs every row and writes bench/results/latest.md. Arguments go to `python -m bench`.
set -e
cd "$(dirname "$0")/.."
exec "${PYTHON:-python3}" -m bench "$@"
