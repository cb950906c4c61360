#!/usr/bin/env bash
# Installs the Debian packages the tests and the local system run for real (DNS server, Redis,
# SimpleSAMLphp, Chromium) when any is missing. Services are not started by the packages: the
# tests start their own instances on loopback ports.
# Usage: hack/ensure-packages.sh [PACKAGE...]   (default: the list in hack/lib.sh)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || read -r -a pkgs <<<"$DEBIAN_PACKAGES"
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]} — install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
log "installing Debian packages: ${missing[*]}"
# Keep package scripts from starting system services (apache2, redis, dnsmasq) on this machine.
policy=/usr/sbin/policy-rc.d
created_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=true
fi
trap '$created_policy && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
