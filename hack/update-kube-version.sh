#!/usr/bin/env bash
# Pins the test control plane to another Kubernetes release: rewrites
# test/controlplane/tools/kube/go.mod, replacing each k8s.io staging module that
# k8s.io/kubernetes pins at v0.0.0 with its published v0.Y.Z twin, then tidies.
# Usage: hack/update-kube-version.sh 1.37.2
set -euo pipefail
version=${1:?usage: $0 MAJOR.MINOR.PATCH}
staging=v0.${version#1.}
dir="$(cd "$(dirname "$0")/.." && pwd)/test/controlplane/tools/kube"
proxy=${GOPROXY%%,*}
[ -n "$proxy" ] && [ "$proxy" != direct ] || proxy=https://proxy.golang.org

mod=$(curl -fsS "$proxy/k8s.io/kubernetes/@v/v$version.mod")
{
  echo "// Wrapper module: k8s.io/kubernetes pins its staging modules at v0.0.0 with local"
  echo "// replaces, so building its commands from the module proxy needs each one pinned to"
  echo "// the matching published release. Regenerate with hack/update-kube-version.sh."
  echo "module gatehouse.dev/controlplane-tools/kube"
  echo
  echo "go 1.26.0"
  echo
  echo "require k8s.io/kubernetes v$version"
  echo
  echo "replace ("
  grep -E '=> \./staging' <<<"$mod" | while read -r m _; do
    # Sample modules are not published; nothing in the build graph needs them.
    if curl -fsS -o /dev/null "$proxy/$m/@v/$staging.info"; then echo "	$m => $m $staging"; fi
  done
  echo ")"
  echo
  echo "tool ("
  echo "	k8s.io/kubernetes/cmd/kube-apiserver"
  echo "	k8s.io/kubernetes/cmd/kubectl"
  echo ")"
} > "$dir/go.mod"
rm -f "$dir/go.sum"
(cd "$dir" && go mod tidy)
echo "pinned Kubernetes v$version in $dir/go.mod"
