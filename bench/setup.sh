#!/usr/bin/env bash
# Install what the benchmark needs beyond kb itself: Debian's wrk, the HTTP
# load generator bench/run.py prefers.  Idempotent: does nothing when wrk is
# already on PATH.  If wrk cannot be installed, says so and exits 0:
# bench/run.py then uses its own Python load generator and says so in its output.
#
#   bash bench/setup.sh && python -m bench.run --corpus ... --liveqa ...
set -euo pipefail

if command -v wrk >/dev/null 2>&1; then
    echo "bench/setup.sh: wrk already installed ($(command -v wrk))"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "bench/setup.sh: no apt-get here; bench/run.py will use its Python load generator" >&2
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
# On a fresh machine the package lists may be missing or stale: update, then retry.
if ! $SUDO apt-get install -y --no-install-recommends wrk; then
    $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends wrk || true
fi

if command -v wrk >/dev/null 2>&1; then
    echo "bench/setup.sh: installed $(command -v wrk)"
else
    echo "bench/setup.sh: could not install wrk; bench/run.py will use its Python load generator" >&2
fi
