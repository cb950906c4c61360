# Shared settings for Gatehouse's scripts. Source it; it changes nothing by itself.
# Everything heavy (Node, control-plane binaries, Go caches) lives under one cache folder outside
# the work tree, so a fresh clone on the same machine starts warm.
GATEHOUSE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GATEHOUSE_CACHE=${GATEHOUSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse}
NODE_VERSION=24.21.0
KUBE_VERSION=$(sed -n "s/^\s*\(require \)\?k8s.io\/kubernetes v\([0-9.]*\).*/\2/p" "$GATEHOUSE_ROOT/test/controlplane/tools/kube/go.mod")
ETCD_VERSION=$(sed -n "s/^\s*\(require \)\?go.etcd.io\/etcd\/server\/v3 v\([0-9.]*\).*/\2/p" "$GATEHOUSE_ROOT/test/controlplane/tools/etcd/go.mod")
HELM_VERSION=3.21.4
GATEHOUSE_BIN="$GATEHOUSE_CACHE/bin/kube-$KUBE_VERSION-etcd-$ETCD_VERSION"
HELM_BIN="$GATEHOUSE_CACHE/bin/helm-$HELM_VERSION"
export GATEHOUSE_ROOT GATEHOUSE_CACHE GATEHOUSE_BIN HELM_BIN

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# Debian packages that tests run for real: a DNS server for domain verification, Redis for
# shared sp-server state, SimpleSAMLphp (+ the PHP CLI server) as the IdP, Chromium as the browser.
DEBIAN_PACKAGES="dnsmasq redis-server simplesamlphp php-cli php-xml php-mbstring chromium"
