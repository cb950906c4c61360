# syntax=docker/dockerfile:1
# One image with all three entry points; the code runs on Node's type stripping, so there is no
# build step beyond installing the production dependencies.
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
# A numeric user, so that Kubernetes can verify runAsNonRoot; the chart runs as 10001:10001.
USER 10001:10001
EXPOSE 8080 8081
ENTRYPOINT ["node"]
CMD ["sp-server/main.ts"]

LABEL org.opencontainers.image.source="https://github.com/gatehouse-dev/gatehouse" \
      org.opencontainers.image.title="gatehouse" \
      org.opencontainers.image.description="Gatehouse operator, SAML SP server and admin portal" \
      org.opencontainers.image.licenses="Apache-2.0"
