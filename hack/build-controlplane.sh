#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and etcd from their Go modules at the versions pinned in
# test/controlplane/tools/*/go.mod, and helm at HELM_VERSION, with the machine's Go toolchain,
# into the cache. A second run finds the binaries and returns at once.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

want=(kube-apiserver kubectl etcd)
missing=()
for b in "${want[@]}"; do [ -x "$GATEHOUSE_BIN/$b" ] || missing+=("$b"); done
[ -x "$HELM_BIN/helm" ] || missing+=(helm)
[ ${#missing[@]} -eq 0 ] && exit 0

command -v go >/dev/null || PATH=/usr/local/go/bin:$PATH
command -v go >/dev/null || { echo "Go is needed to build the control plane (looked in PATH and /usr/local/go/bin)" >&2; exit 1; }
export CGO_ENABLED=0 GOFLAGS=-mod=readonly

if [ ! -x "$HELM_BIN/helm" ]; then
  mkdir -p "$HELM_BIN"
  htmp=$(mktemp -d "$HELM_BIN/.build.XXXXXX")
  start=$SECONDS
  log "building helm v$HELM_VERSION (first run only)"
  # `go install pkg@version` resolves helm's own go.mod (and go.sum) from the module proxy,
  # so the build is reproducible without a wrapper module. Stamp what helm's Makefile stamps:
  # its version, and the Kubernetes version `helm template`/`lint` assume (from its client-go;
  # unstamped it is v1.20, which fails the chart's kubeVersion).
  gomod=$(go mod download -json "helm.sh/helm/v3@v$HELM_VERSION" | sed -n 's/^\s*"GoMod": "\(.*\)",\?$/\1/p')
  k8s_minor=$(sed -n 's/^\s*k8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$gomod")
  [ -n "$k8s_minor" ] || { echo "could not read client-go's version from $gomod" >&2; exit 1; }
  GOBIN="$htmp" go install -trimpath -ldflags="-s \
      -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean \
      -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$k8s_minor \
      -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$k8s_minor" \
    "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
  mv "$htmp/helm" "$HELM_BIN/helm"
  rm -rf "$htmp"
  log "helm built in $((SECONDS - start)) s into $HELM_BIN"
fi

missing=()
for b in "${want[@]}"; do [ -x "$GATEHOUSE_BIN/$b" ] || missing+=("$b"); done
[ ${#missing[@]} -eq 0 ] && exit 0
mkdir -p "$GATEHOUSE_BIN"
tmp=$(mktemp -d "$GATEHOUSE_BIN/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
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
