# Gatehouse — kubebuilder-style targets. Every target goes through hack/env.sh, which installs
# Node.js 24, the npm dependencies and the control-plane binaries on first use.
ENV := hack/env.sh

.PHONY: help
help: ## Show the targets.
	@grep -hE '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

.PHONY: run
run: ## Run the whole system locally: control plane, operator, sp-server, demo IdP; prints a login URL.
	$(ENV) node hack/run-local.ts

.PHONY: test
test: ## Run every check and test: types, generated files, unit, integration and browser tests.
	$(ENV) bash -c 'tsc --noEmit -p tsconfig.json && node crds/generate.ts --check && vitest run'

.PHONY: generate
generate: ## Regenerate the CRD YAML (crds/bases, chart templates) and the chart's values.schema.json from the zod schemas.
	$(ENV) node crds/generate.ts

.PHONY: typecheck
typecheck: ## Type-check the whole tree.
	$(ENV) tsc --noEmit -p tsconfig.json

.PHONY: controlplane
controlplane: ## Build (once) kube-apiserver, etcd, kubectl and helm into the cache.
	hack/build-controlplane.sh
