# LabelFlow. Two commands matter: `make demo` and `make test`. Tools are pinned and built from
# source into ./bin with the Go toolchain, so a machine with only Go can run everything.

GO            ?= go
BIN           := $(CURDIR)/bin
export PATH   := $(BIN):$(PATH)

TEMPORAL_CLI_VERSION  := v1.5.1
VERSITYGW_VERSION     := v1.8.0
WORKFLOWCHECK_VERSION := v0.6.0

TEMPORAL      := $(BIN)/.temporal-$(TEMPORAL_CLI_VERSION)
VERSITYGW     := $(BIN)/.versitygw-$(VERSITYGW_VERSION)
WORKFLOWCHECK := $(BIN)/.workflowcheck-$(WORKFLOWCHECK_VERSION)

.PHONY: all build tools demo dev test unit integration lint bench clean

all: build

build:
	$(GO) build -o $(BIN)/labelflow ./cmd/labelflow

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

tools: $(TEMPORAL) $(VERSITYGW) $(WORKFLOWCHECK)

# The whole pipeline end to end on the embedded stack; exits 0 when the delivery is verified and
# payroll is paid.
demo: tools build
	LABELFLOW_BIN_DIR=$(BIN) $(BIN)/labelflow demo

# The embedded stack in the foreground, on the default ports.
dev: tools build
	LABELFLOW_BIN_DIR=$(BIN) $(BIN)/labelflow dev

lint: $(WORKFLOWCHECK)
	$(GO) vet ./...
	$(BIN)/workflowcheck ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)

# Every test: unit tests, workflow tests with replay, and integration tests against real
# Temporal and S3 servers that the tests start themselves from ./bin.
test: tools lint
	LABELFLOW_INTEGRATION=1 LABELFLOW_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout 30m ./...

unit:
	$(GO) test -count=1 ./...

# Benchmarks: Go benchmarks, then the 10,000-item project on the embedded stack.
bench: tools build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	LABELFLOW_BIN_DIR=$(BIN) $(BIN)/labelflow bench --items 10000

clean:
	rm -rf $(BIN) .labelflow
