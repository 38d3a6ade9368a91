#!/usr/bin/env bash
# Installs Debian's etcd server (3.4) for the etcd arbiter tests (test/etcd*.test.ts start their
# own members on loopback with it). Only Debian's packages and the npm registry are reachable, so
# etcd comes from apt. Safe to run again: it does nothing when etcd is already installed, and a
# machine without apt (or without root) only gets a warning: the etcd tests then say what is
# missing and fail.
set -euo pipefail

if command -v etcd >/dev/null 2>&1; then
  echo "etcd already installed: $(etcd --version 2>/dev/null | head -1)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-etcd: no apt-get here; install etcd 3.4+ (etcd on PATH) for the etcd tests" >&2
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends etcd-server
etcd --version | head -1
