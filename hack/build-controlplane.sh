#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and etcd from their Go modules at the versions pinned in
# test/controlplane/tools/*/go.mod, with the machine's Go toolchain, into the cache.
# A second run finds the binaries and returns at once.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

want=(kube-apiserver kubectl etcd)
missing=()
for b in "${want[@]}"; do [ -x "$GATEHOUSE_BIN/$b" ] || missing+=("$b"); done
[ ${#missing[@]} -eq 0 ] && exit 0

command -v go >/dev/null || PATH=/usr/local/go/bin:$PATH
command -v go >/dev/null || { echo "Go is needed to build the control plane (looked in PATH and /usr/local/go/bin)" >&2; exit 1; }
mkdir -p "$GATEHOUSE_BIN"
tmp=$(mktemp -d "$GATEHOUSE_BIN/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export CGO_ENABLED=0 GOFLAGS=-mod=readonly
start=$SECONDS
log "building control plane: kubernetes v$KUBE_VERSION, etcd v$ETCD_VERSION (first run only; several minutes)"
( cd "$GATEHOUSE_ROOT/test/controlplane/tools/etcd" && go build -trimpath -ldflags=-s -o "$tmp/etcd" . )
( cd "$GATEHOUSE_ROOT/test/controlplane/tools/kube" &&
  v=k8s.io/component-base/version
  # Stamp the real version: clients such as helm compare it against charts' kubeVersion.
  go build -trimpath -o "$tmp/" -ldflags="-s -X $v.gitVersion=v$KUBE_VERSION -X $v.gitMajor=${KUBE_VERSION%%.*} \
      -X $v.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2) -X $v.gitTreeState=clean" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl )
# Move into place only once everything built, so an interrupted build never leaves half a set.
for b in "${want[@]}"; do mv "$tmp/$b" "$GATEHOUSE_BIN/$b"; done
log "control plane built in $((SECONDS - start)) s into $GATEHOUSE_BIN"
