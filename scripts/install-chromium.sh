#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium at /usr/bin/chromium for the timeline test
# (test/cli_timeline.test.ts drives it with playwright-core). playwright's own browser download
# cannot be used here: only Debian's packages and the npm registry are reachable, so the browser
# comes from apt. Safe to run again: apt-get skips what is already installed.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core
/usr/bin/chromium --version
