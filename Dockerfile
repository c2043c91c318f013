# syntax=docker/dockerfile:1
# prometheus-cluster-controller: the Metacontroller hook, with the helm and promtool it shells out to.
#   docker build -t prometheus-cluster-controller:0.1.0 .   (or: make image)
# Without a Docker engine, make image builds the same image with scripts/build-image.sh, which reads
# the final stage's FROM (its Debian suite), USER, ENV, WORKDIR, EXPOSE, CMD and COPY destinations
# from this file (scripts/image-config.ts) and refuses any other instruction there: keep the final
# stage to those, and teach that script a new COPY.

# --- helm and promtool, built from source by the same script developers use. Every module that goes
# into them is checksum-verified against tools/helm/go.sum and tools/promtool/go.sum (-mod=readonly).
# The script runs each binary to check its version, so this stage builds for the build platform
# (build per architecture, no cross-compiling).
FROM golang:1.26-bookworm AS tools
WORKDIR /src
COPY tools/ tools/
COPY scripts/install-tools.sh scripts/install-tools.sh
COPY scripts/lib/ scripts/lib/
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    PCC_CACHE_DIR=/opt/pcc scripts/install-tools.sh \
 && mkdir -p /out \
 && cp -L /opt/pcc/bin/helm /opt/pcc/bin/promtool /out/ \
 && /out/helm version --short && /out/promtool --version

# --- the hook: TypeScript compiled to dist/, then only the production dependencies kept.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src/ src/
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime. node:24-bookworm-slim rather than distroless nodejs24: it is the exact Node binary and
# Debian release node_modules were installed and pruned with in the build stage, `node dist/server.js`
# runs as written, and a shell is there for `kubectl exec` when debugging a render. helm and promtool
# are static (CGO_ENABLED=0) and need nothing from the base image, so moving to
# gcr.io/distroless/nodejs24-debian12 later only means changing this FROM and CMD (its entrypoint is node).
# Node 24 is the major of .nvmrc, the exact version make and the tests run.
FROM node:24-bookworm-slim
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY charts/prometheus-cluster ./charts/prometheus-cluster
COPY --from=tools /out/helm /out/promtool /usr/local/bin/
# nobody:nogroup. helm writes its cache/config under $HOME, so HOME=/tmp (mount an emptyDir there when
# the root filesystem is read-only).
USER 65534:65534
ENV NODE_ENV=production \
    HOME=/tmp \
    PORT=8443 \
    OPS_PORT=8081 \
    HELM_BIN=/usr/local/bin/helm \
    PROMTOOL_BIN=/usr/local/bin/promtool \
    CHART_PATH=/app/charts/prometheus-cluster
# 8443: the hooks (mutual TLS: set TLS_CERT_FILE, TLS_KEY_FILE, TLS_CLIENT_CA_FILE, as the
# install's Deployment does); 8081: /healthz, /readyz and /metrics over plain HTTP.
EXPOSE 8443 8081
# --max-semi-space-size=4 (MiB, V8's young generation): with Node 24's default the hook's RSS was
# 246 MiB after 10,000 syncs (make bench: V8 heap 161 MiB, 41 MiB of it in use); with 4 it was
# 141 MiB at the same throughput. npm start, the e2e harness and the benchmarks run the server with
# the flags written here (scripts/image-config.ts nodeFlags).
CMD ["node", "--max-semi-space-size=4", "dist/server.js"]
