# LabelFlow. Two commands matter: `make demo` and `make test`. Tools are pinned and built from
# source into ./bin with the Go toolchain, so a machine with only Go can run everything.

GO            ?= go
BIN           := $(CURDIR)/bin
export PATH   := $(BIN):$(PATH)

TEMPORAL_CLI_VERSION  := v1.5.1
VERSITYGW_VERSION     := v1.8.0
WORKFLOWCHECK_VERSION := v0.6.0
GOVULNCHECK_VERSION   := v1.9.0
STATICCHECK_VERSION   := v0.8.2

TEMPORAL      := $(BIN)/.temporal-$(TEMPORAL_CLI_VERSION)
VERSITYGW     := $(BIN)/.versitygw-$(VERSITYGW_VERSION)
WORKFLOWCHECK := $(BIN)/.workflowcheck-$(WORKFLOWCHECK_VERSION)
GOVULNCHECK   := $(BIN)/.govulncheck-$(GOVULNCHECK_VERSION)
STATICCHECK   := $(BIN)/.staticcheck-$(STATICCHECK_VERSION)

# The Go vulnerability database govulncheck reads, built offline from a golang/vulndb snapshot
# (v1 layout: index/db.json, index/modules.json, ID/<GO-ID>.json). Nothing is fetched at check time.
VULNDB        ?= $(HOME)/.cache/labelflow/vulndb
# How long `make fuzz` runs each fuzz target; `make test` runs each for FUZZTIME_SHORT, a count
# of inputs (3 to 10 s here): with a duration, Go 1.26's fuzz coordinator can report its own
# deadline as a failure when the time is up (golang/go#75804, fixed in Go 1.27), failing a run
# that found nothing.
FUZZTIME       ?= 5m
FUZZTIME_SHORT ?= 30000x

.PHONY: all build tools chromium coco-tools xmllint demo dev test unit integration lint bench bench-ui clean vulncheck fuzz fuzz-short

all: build

build:
	$(GO) build -o $(BIN)/labelflow ./cmd/labelflow

# The container image as an OCI image layout tarball, built with the Go toolchain alone (no
# container engine, no base image to pull): podman load -i, docker load -i (Docker 25+), or
# skopeo copy oci-archive:bin/labelflow-image.tar docker://REGISTRY/labelflow:TAG. Stamped with the
# commit's time, so that building a commit twice gives the same digest.
.PHONY: image
IMAGE_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
image:
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || echo 0) \
		$(GO) run ./deploy/image --out $(BIN)/labelflow-image.tar --version $(IMAGE_VERSION) \
		--revision $$(git rev-parse HEAD 2>/dev/null)

# Stamp files record the installed version; changing a pin rebuilds that tool.
$(TEMPORAL):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)
	@rm -f $(BIN)/.temporal-* && touch $@

$(VERSITYGW):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)
	@rm -f $(BIN)/.versitygw-* && touch $@

$(WORKFLOWCHECK):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION)
	@rm -f $(BIN)/.workflowcheck-* && touch $@

$(GOVULNCHECK):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)
	@rm -f $(BIN)/.govulncheck-* && touch $@

# staticcheck with its default set of checks (everything but a few naming-style ones): likely
# bugs, deprecated APIs, simplifications and unused code.
$(STATICCHECK):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@rm -f $(BIN)/.staticcheck-* && touch $@

tools: $(TEMPORAL) $(VERSITYGW) $(WORKFLOWCHECK) $(GOVULNCHECK) $(STATICCHECK)

# Chromium for the browser tests (internal/webtest): Debian's package, installed only when
# missing. Without root it says how to install it, and the browser tests then fail.
chromium:
	@if [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "chromium: installing Debian's chromium for the browser tests"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else \
		echo "chromium: not installed, and the browser tests need it: sudo apt-get update && sudo apt-get install -y chromium"; \
	fi

# pycocotools for the tests that load delivered COCO files with it (internal/formats,
# internal/demo): Debian's python3-pycocotools, installed when missing and the release has it.
# Without it those tests check the files against pycocotools' documented requirements only, and
# say so.
coco-tools:
	@if /usr/bin/python3 -c 'import pycocotools' >/dev/null 2>&1; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-cache show python3-pycocotools >/dev/null 2>&1 || apt-get update -qq; \
		if apt-cache show python3-pycocotools >/dev/null 2>&1; then \
			echo "coco-tools: installing Debian's python3-pycocotools for the COCO consumer tests"; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y python3-pycocotools; \
		else \
			echo "coco-tools: this Debian release has no python3-pycocotools; the COCO consumer tests check its documented requirements only"; \
		fi; \
	else \
		echo "coco-tools: pycocotools is not installed; the COCO consumer tests check its documented requirements only (sudo apt-get install python3-pycocotools where Debian has it)"; \
	fi

# xmllint for the tests that check pain.001 payout files against the ISO 20022 schema
# (internal/payout, internal/demo): Debian's libxml2-utils, installed only when missing. Without it
# those tests skip, or fail under make test, saying how to install it.
xmllint:
	@if command -v xmllint >/dev/null 2>&1; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "xmllint: installing Debian's libxml2-utils for the payout file tests"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y libxml2-utils; \
	else \
		echo "xmllint: not installed, and the payout file tests need it: sudo apt-get update && sudo apt-get install -y libxml2-utils"; \
	fi

# The whole pipeline end to end on the embedded stack; exits 0 when the delivery is verified and
# payroll is paid.
demo: tools build
	LABELFLOW_BIN_DIR=$(BIN) $(BIN)/labelflow demo

# The embedded stack in the foreground, on the default ports.
dev: tools build
	LABELFLOW_BIN_DIR=$(BIN) $(BIN)/labelflow dev

lint: $(WORKFLOWCHECK) $(STATICCHECK)
	$(GO) vet ./...
	$(BIN)/workflowcheck ./...
	$(BIN)/staticcheck ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)

# Every test: unit tests, workflow tests with replay, integration tests against real Temporal
# and S3 servers that the tests start themselves from ./bin, browser tests in Chromium
# (screenshots in test-artifacts/), then the cluster test.
test: tools chromium coco-tools xmllint lint vulncheck fuzz-short
	LABELFLOW_INTEGRATION=1 LABELFLOW_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout 30m ./...
	@$(MAKE) --no-print-directory cluster-test

# Known vulnerabilities reachable from the module's code, against the local database. A missing
# database fails the check: a vulnerability check that did not run must not look like one that passed.
vulncheck: $(GOVULNCHECK)
	@if [ ! -f "$(VULNDB)/index/db.json" ]; then \
		echo "vulncheck: no vulnerability database at $(VULNDB) (index/db.json missing)."; \
		echo "vulncheck: build it from a golang/vulndb snapshot (v1 layout, see the README's Tests and benchmarks), or set VULNDB to the absolute path of one."; \
		exit 1; \
	fi
	@echo "vulncheck: database $(VULNDB): $$(cat "$(VULNDB)/SOURCE" 2>/dev/null || cat "$(VULNDB)/index/db.json")"
	$(BIN)/govulncheck -db file://$(VULNDB) ./...

# Fuzz targets of the parsers that read outside input: package and target, one per line.
FUZZ_TARGETS := \
	./internal/spec:FuzzParse \
	./internal/manifest:FuzzSplit \
	./internal/workforce:FuzzParseCSV \
	./internal/gateway:FuzzSubmitBody

# `go test -fuzz` takes one package and one target at a time, so the targets run in turn.
# fuzz-short (part of `make test`) runs each for $(FUZZTIME_SHORT); fuzz for $(FUZZTIME).
fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME_SHORT)

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz: $$pkg $$name for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

unit:
	$(GO) test -count=1 ./...

# Benchmarks: Go benchmarks, then the 10,000-item project on the embedded stack.
bench: tools build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	LABELFLOW_BIN_DIR=$(BIN) $(BIN)/labelflow bench --items 10000

# The workbench in a real browser: page weight, time to first task, keyboard labeling latency.
bench-ui: tools chromium build
	LABELFLOW_BIN_DIR=$(BIN) $(BIN)/labelflow bench ui

clean:
	rm -rf $(BIN) .labelflow

# The cluster test (internal/cluster): LabelFlow in its production configuration, every part a process of its
# own on this machine (PostgreSQL, the Temporal server with TLS on its frontend, versitygw, two
# workflow workers, two activity workers, two gateways), a 20,000-item project with kills, then
# the same project on one worker for comparison. Three to five minutes on two cores, once built.
TEMPORAL_SERVER_VERSION := v1.30.4
TEMPORAL_SERVER         := $(BIN)/.temporalserver-$(TEMPORAL_SERVER_VERSION)
CLUSTER_SERVER_DIR      := deploy/cluster/temporal-server

.PHONY: postgresql cluster-test

cluster-test: $(TEMPORAL_SERVER) $(VERSITYGW) postgresql build
	LABELFLOW_CLUSTER=1 LABELFLOW_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout 15m -v -run '^TestCluster' ./internal/cluster/

# The Temporal server itself (not the CLI's dev server), built from its Go module at the version
# that $(CLUSTER_SERVER_DIR)/go.mod pins, into bin/temporal-server.
$(TEMPORAL_SERVER): $(CLUSTER_SERVER_DIR)/go.mod $(CLUSTER_SERVER_DIR)/go.sum $(CLUSTER_SERVER_DIR)/main.go
	@grep -q 'go.temporal.io/server $(TEMPORAL_SERVER_VERSION)$$' $(CLUSTER_SERVER_DIR)/go.mod || \
		{ echo "$(CLUSTER_SERVER_DIR)/go.mod does not require go.temporal.io/server $(TEMPORAL_SERVER_VERSION)"; exit 1; }
	@mkdir -p $(BIN)
	cd $(CLUSTER_SERVER_DIR) && $(GO) build -o $(BIN)/temporal-server .
	@rm -f $(BIN)/.temporalserver-* && touch $@

# PostgreSQL for the cluster test's Temporal server: Debian's postgresql, installed only when
# missing. Without root it says how to install it, and the cluster test then fails.
postgresql:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "postgresql: installing Debian's postgresql for the cluster test"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; \
	else \
		echo "postgresql: not installed, and the cluster test needs it: sudo apt-get update && sudo apt-get install -y postgresql"; \
	fi
