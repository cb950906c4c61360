# syntax=docker/dockerfile:1
# One image with all three entry points; the code runs on Node's type stripping, so there is no
# build step beyond installing the production dependencies and filling Node's module compile cache.
#   operator:  node operator/main.ts  [flags]
#   sp-server: node sp-server/main.ts [flags]
#   portal:    node portal/main.ts    [flags]
# Everything it runs also runs without it: `hack/env.sh node operator/main.ts …`.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency needs an install script (the XML validator is WebAssembly).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# The runtime needs node only: drop the package managers and their dependency trees.
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn* /usr/local/bin/yarn /usr/local/bin/yarnpkg
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY crds ./crds
COPY kube ./kube
COPY operator ./operator
COPY sp-server ./sp-server
COPY xml ./xml
COPY egress ./egress
COPY ui ./ui
COPY portal ./portal
# Every module compiled once, as the chart's user (Node keys the cache by user ID): no process loads
# the type stripper at start, which saves each isolate 20-25 MiB (hack/fill-compile-cache.sh). The
# chart mounts the root filesystem read-only; a read-only cache is only read.
ENV NODE_COMPILE_CACHE=/app/.node-compile-cache
RUN mkdir "$NODE_COMPILE_CACHE" && chown 10001:10001 "$NODE_COMPILE_CACHE"
# A numeric user, so that Kubernetes can verify runAsNonRoot; the chart runs as 10001:10001.
USER 10001:10001
RUN --mount=type=bind,source=hack/fill-compile-cache.sh,target=/app/hack/fill-compile-cache.sh sh hack/fill-compile-cache.sh
EXPOSE 8080 8081
ENTRYPOINT ["node"]
CMD ["sp-server/main.ts"]

LABEL org.opencontainers.image.source="https://github.com/gatehouse-dev/gatehouse" \
      org.opencontainers.image.title="gatehouse" \
      org.opencontainers.image.description="Gatehouse operator, SAML SP server and admin portal" \
      org.opencontainers.image.licenses="Apache-2.0"
