# prometheus-cluster-controller: `make help` lists the targets.
# Node.js (the exact version in .nvmrc, from the npm registry: scripts/install-nodejs.sh) and helm
# and promtool (built by scripts/install-tools.sh) are installed once into a per-user cache and put
# first on PATH for every recipe, so node, npm, npx, tsx and tap always run on the pinned Node;
# HELM_BIN and PROMTOOL_BIN point at helm and promtool unless already set.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules --warn-undefined-variables

TOOLS_BIN := $(shell scripts/install-tools.sh --print-bin-dir)
ifeq ($(TOOLS_BIN),)
$(error scripts/install-tools.sh --print-bin-dir printed nothing)
endif
# Reads .nvmrc only; the node there is installed by the nodejs target, on demand.
NODE_BIN := $(shell scripts/install-nodejs.sh --print-bin-dir)
ifeq ($(NODE_BIN),)
$(error scripts/install-nodejs.sh --print-bin-dir printed nothing)
endif
NODE_VERSION := $(patsubst node-v%,%,$(notdir $(patsubst %/bin,%,$(NODE_BIN))))
NODE_MODULES_STAMP := node_modules/.stamp-node-v$(NODE_VERSION)
export PATH := $(NODE_BIN):$(TOOLS_BIN):$(PATH)
HELM_BIN ?= $(TOOLS_BIN)/helm
PROMTOOL_BIN ?= $(TOOLS_BIN)/promtool
export HELM_BIN PROMTOOL_BIN

IMAGE ?= prometheus-cluster-controller:0.1.0
DOCKER ?= docker
# make image: docker (docker build; any Docker-compatible CLI in DOCKER) or archive
# (scripts/build-image.sh, no container engine: a docker-archive in IMAGE_ARCHIVE). Empty: docker
# when `$(DOCKER) info` answers, archive otherwise.
IMAGE_BUILDER ?=
IMAGE_ARCHIVE ?= dist/image.tar
KUBECTL ?= kubectl
KUSTOMIZE_DIR ?= metacontroller/
DELETE_NAMESPACE ?=
CONFIRM ?=
RENEW ?=
# make install's certificates (git-ignored), read by the controller layer's secretGenerator.
CERTS_DIR := $(patsubst %/,%,$(KUSTOMIZE_DIR))/controller/certs

.PHONY: help
help: ## List the targets
	@printf 'Usage: make <target> [VAR=value]\n\nTargets:\n'
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z0-9_-]+:.*## / { printf "  %-15s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@printf '\nNode.js %s (.nvmrc): %s\nhelm and promtool: %s (HELM_BIN, PROMTOOL_BIN)\n' '$(NODE_VERSION)' '$(NODE_BIN)' '$(TOOLS_BIN)'

.PHONY: dependencies
dependencies: nodejs $(NODE_MODULES_STAMP) tools ## Install Node.js (.nvmrc), the npm packages (npm ci), and build helm + promtool

.PHONY: nodejs
nodejs: ## Install the Node.js of .nvmrc and its npm from the npm registry into the cache (first run only)
	scripts/install-nodejs.sh >/dev/null

# npm ci runs again when package-lock.json or the Node version changes: the stamp is named after
# the version, and npm ci empties node_modules, old stamps with it, so nothing installed under
# another Node stays.
$(NODE_MODULES_STAMP): package-lock.json | nodejs
	npm ci
	touch $@

.PHONY: tools
tools: ## Build the pinned helm and promtool into the cache (first run only)
	scripts/install-tools.sh >/dev/null

.PHONY: test
test: dependencies ## Typecheck, lint, helm lint the charts and run the test suite (npm test)
	@echo "node $$(node --version) ($$(command -v node)), npm $$(npm --version)"
	npm test

.PHONY: run
run: dependencies ## Run the hook on PORT (default 8080)
	npm start

.PHONY: dev
dev: dependencies ## Run the hook with reload and pretty logs
	npm run dev

.PHONY: debug
debug: dependencies ## Render the children of every example, no cluster needed
	npm run debug

.PHONY: crd
crd: dependencies ## Regenerate the CRD from the schema
	npm run crd

.PHONY: bench
bench: dependencies ## Run the sync benchmark
	npm run bench

# What the demo and the benchmark run on: every e2e tool but prometheus-operator, which only the
# e2e scenario beside it needs.
CONTROL_PLANE_TOOLS := kubernetes etcd kwok metacontroller

.PHONY: e2e-tools
e2e-tools: ## Build the pinned Kubernetes, etcd, kwok, Metacontroller (from its source) and prometheus-operator into the cache (first run: about 20 minutes on 2 cores)
	scripts/install-e2e-tools.sh >/dev/null

.PHONY: node-tools
node-tools: ## Build the real node's kubelet, CNI plugins, prometheus and images; apt-get containerd and runc if missing
	scripts/install-node-tools.sh >/dev/null

.PHONY: image-base
image-base: dependencies ## Make the Debian base of the hook's image with mmdebstrap (make image without a Docker engine; first run only, about 70 s)
	scripts/build-image.sh --base >/dev/null

.PHONY: e2e
e2e: dependencies e2e-tools node-tools image-base ## The seed's journey (kwok node), real Prometheus pods and the install from images (real node), prometheus-operator beside it, against a local control plane; then the 100-cluster benchmark
	npm run e2e
	BENCH_CLUSTERS=100 BENCH_METACONTROLLER=recommended npm run bench:e2e

.PHONY: demo
demo: dependencies ## A local cluster with Metacontroller and the hook, examples/simple.yaml applied; Ctrl-C cleans up
	scripts/install-e2e-tools.sh $(CONTROL_PLANE_TOOLS) >/dev/null
	npm run demo

.PHONY: bench-e2e
bench-e2e: dependencies ## Seconds for BENCH_CLUSTERS (100) PrometheusClusters to converge, and a resync (BENCH_METACONTROLLER=recommended|defaults)
	scripts/install-e2e-tools.sh $(CONTROL_PLANE_TOOLS) >/dev/null
	npm run bench:e2e

.PHONY: image
image: ## Build the hook image IMAGE (default prometheus-cluster-controller:0.1.0): docker build, or without a Docker engine a docker-archive in IMAGE_ARCHIVE
	@builder='$(IMAGE_BUILDER)'; \
	if [[ -z "$$builder" ]]; then \
	  if $(DOCKER) info >/dev/null 2>&1; then builder=docker; else builder=archive; echo "No Docker engine answers ($(DOCKER) info): building without one."; fi; \
	fi; \
	case "$$builder" in \
	  docker) set -x; $(DOCKER) build -t '$(IMAGE)' . ;; \
	  archive) \
	    $(MAKE) --no-print-directory dependencies; \
	    (set -x; scripts/build-image.sh --output '$(IMAGE_ARCHIVE)' '$(IMAGE)' >/dev/null); \
	    echo "$(IMAGE) is in $(IMAGE_ARCHIVE) (docker-archive). Push it with: skopeo copy docker-archive:$(IMAGE_ARCHIVE) docker://$(IMAGE)"; \
	    echo "or load it: docker load -i $(IMAGE_ARCHIVE); ctr -n k8s.io images import $(IMAGE_ARCHIVE)" ;; \
	  *) echo "IMAGE_BUILDER=$$builder: expected docker, archive or nothing" >&2; exit 2 ;; \
	esac

.PHONY: certs
certs: ## The CA and the hook's and Metacontroller's certificates in metacontroller/controller/certs/ (kept; RENEW=1 issues new ones)
	scripts/make-certs.sh $(if $(filter 1 yes true,$(RENEW)),--renew) $(CERTS_DIR)

# The hook runs IMAGE: metacontroller/ is applied through a kustomization in a temporary directory
# whose images: entry replaces the image named prometheus-cluster-controller (the one
# metacontroller/controller/deployment.yaml runs) with IMAGE, split into name and tag (or digest).
.PHONY: install
install: certs ## kubectl apply the CRD, hook (image IMAGE), TLS Secrets, NetworkPolicy and CompositeController (metacontroller/)
	@overlay="$$(mktemp -d)"; trap 'rm -rf "$$overlay"' EXIT; \
	image='$(IMAGE)'; name="$${image%@*}"; tag=""; digest=""; \
	if [[ "$$image" == *@* ]]; then digest="$${image#*@}"; \
	elif [[ "$${image##*/}" == *:* ]]; then tag="$${image##*:}"; name="$${image%:*}"; fi; \
	{ printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - %s\nimages:\n  - name: prometheus-cluster-controller\n    newName: "%s"\n' \
	    "$$(realpath --relative-to="$$overlay" '$(KUSTOMIZE_DIR)')" "$$name"; \
	  if [[ -n "$$tag" ]]; then printf '    newTag: "%s"\n' "$$tag"; fi; \
	  if [[ -n "$$digest" ]]; then printf '    digest: "%s"\n' "$$digest"; fi; } >"$$overlay/kustomization.yaml"; \
	echo "$(KUBECTL) apply -k $(KUSTOMIZE_DIR) (image $(IMAGE))"; \
	$(KUBECTL) apply -k "$$overlay"

.PHONY: uninstall
uninstall: certs ## Delete the hook and CompositeController; keeps the CRD, PVCs (and namespace unless DELETE_NAMESPACE=1)
	@echo 'Deleting the CompositeController first (Metacontroller stops calling the hook), then the hook.'
	@echo 'Kept: the CRD, every PrometheusCluster and its PersistentVolumeClaims$(if $(filter 1 yes true,$(DELETE_NAMESPACE)),,, and the namespace).'
	$(KUBECTL) delete --ignore-not-found -f $(KUSTOMIZE_DIR)controller/composite-controller.yaml
	$(KUBECTL) delete --ignore-not-found -k $(KUSTOMIZE_DIR)controller
	$(if $(filter 1 yes true,$(DELETE_NAMESPACE)),$(KUBECTL) delete --ignore-not-found -k $(KUSTOMIZE_DIR)namespace)

.PHONY: uninstall-crd
uninstall-crd: ## Delete the PrometheusCluster CRD and EVERY PrometheusCluster (needs CONFIRM=yes)
	@echo 'This deletes the PrometheusCluster CRD and with it every PrometheusCluster in the cluster:'
	@$(KUBECTL) get prometheusclusters --all-namespaces --ignore-not-found 2>&1 | sed 's/^/  /' || true
	@echo "Their StatefulSets and pods go too. PersistentVolumeClaims are kept unless a PrometheusCluster's spec asks otherwise."
	@echo 'Delete the PrometheusClusters (kubectl delete prometheusclusters --all -A) while the controller is still installed,'
	@echo 'so their finalizers are released; otherwise the deletion can hang.'
	@if [[ "$(CONFIRM)" != yes ]]; then echo "Refusing without CONFIRM=yes: make uninstall-crd CONFIRM=yes" >&2; exit 1; fi
	$(KUBECTL) delete --ignore-not-found -k $(KUSTOMIZE_DIR)crd

.PHONY: clean
clean: ## Remove build and coverage output (dist/, coverage/, .tap/); keeps the tools cache
	rm -rf dist coverage .tap
