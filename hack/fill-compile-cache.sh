#!/bin/sh
# Fills Node's module compile cache (the directory NODE_COMPILE_CACHE names) for the three
# processes of the image and the portal's link-minting command (run by `kubectl exec`), run by the Dockerfile as the user the chart runs them as. Each process is
# started once as its container starts it, loads its whole module graph and stops
# (GATEHOUSE_LOAD_ONLY=1); the operator replaces itself with its V8 flags first, so its graph is
# cached for exactly those flags.
#
# Why: Node's type stripping is a WebAssembly compiler loaded into every isolate that compiles a
# .ts file. With every module found in the cache, no isolate loads it: the operator's module graph
# holds 88 MiB of RSS instead of 113, the sp-server with two validation workers 140 instead of 188.
# Node keys the cache by its version, the V8 flags and the user ID, and every entry by the file's
# path and content; a process that misses it compiles as before, and a read-only cache is only read.
set -eu
: "${NODE_COMPILE_CACHE:?NODE_COMPILE_CACHE must name the cache directory}"
cd "$(dirname "$0")/.."
for entry in operator/main.ts sp-server/main.ts portal/main.ts portal/setup-links/mint-link.ts; do
  GATEHOUSE_LOAD_ONLY=1 node "$entry"
done
