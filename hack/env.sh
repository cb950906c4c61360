#!/usr/bin/env bash
# Runs a command with everything Gatehouse needs in place, installing what is missing:
#   Node.js 24 (from the npm registry's node-linux-<arch> package, when the machine's is older),
#   the npm dependencies (npm ci, when package-lock.json changed),
#   the control-plane binaries and helm (hack/build-controlplane.sh).
# Usage: hack/env.sh COMMAND [ARG...]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ensure_node() {
  local have
  have=$(node --version 2>/dev/null || true)
  if [[ $have == v24.* ]]; then return; fi
  local arch
  case $(uname -m) in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "no Node.js 24 package for $(uname -m)" >&2; exit 1 ;;
  esac
  local dir="$GATEHOUSE_CACHE/node-$NODE_VERSION"
  local bin="$dir/node_modules/node-linux-$arch/bin"
  if [ ! -x "$bin/node" ]; then
    command -v npm >/dev/null || { echo "npm is needed once to fetch Node.js $NODE_VERSION" >&2; exit 1; }
    log "installing Node.js $NODE_VERSION into $dir (machine has ${have:-none})"
    mkdir -p "$dir"
    npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix "$dir" "node-linux-$arch@$NODE_VERSION" >&2
  fi
  export PATH="$bin:$PATH"
}

ensure_deps() {
  local stamp="$GATEHOUSE_ROOT/node_modules/.gatehouse-lock.sha256"
  local want
  want=$(sha256sum "$GATEHOUSE_ROOT/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing npm dependencies (npm ci)"
    (cd "$GATEHOUSE_ROOT" && npm ci --no-audit --no-fund --loglevel=error >&2)
    echo "$want" > "$stamp"
  fi
}

ensure_node
ensure_deps
"$GATEHOUSE_ROOT/hack/ensure-packages.sh"
"$GATEHOUSE_ROOT/hack/build-controlplane.sh"
export PATH="$GATEHOUSE_ROOT/node_modules/.bin:$GATEHOUSE_BIN:$HELM_BIN:$PATH"
# Node's module compile cache, as the image has one (Dockerfile): a process started from the tree
# neither compiles nor type-strips a module an earlier start compiled unchanged.
export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$GATEHOUSE_CACHE/node-compile-cache}"
exec "$@"
