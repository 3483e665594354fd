#!/usr/bin/env bash
# Installs the system packages the stack needs, where missing:
#   always:       a Java 17 runtime (TorchServe's frontend), Python 3.11 with venv
#   with --test:  Debian's chromium and a Korean font (browser end-to-end tests) and the PostgreSQL
#                 server (database tests start their own instance), Prometheus (promtool tests) and
#                 nginx (the Kubernetes auth proxy's config runs in front of a real TorchServe)
#   with --monitor: Prometheus (make monitor)
# Uses apt-get when running as root; otherwise prints what to install and fails.
set -euo pipefail

missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v python3.11 >/dev/null 2>&1 || missing+=(python3.11 python3.11-venv)
if [ "${1:-}" = "--test" ]; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  dpkg -s fonts-nanum >/dev/null 2>&1 || missing+=(fonts-nanum)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  [ -x /usr/sbin/nginx ] || missing+=(nginx)
fi
if [ "${1:-}" = "--test" ] || [ "${1:-}" = "--monitor" ]; then
  command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: missing system packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "==> installing system packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
