# licensegw — two commands on a fresh machine: `make run` and `make test`.

GO       ?= go
BIN      := bin
PLUGINS  := $(wildcard cmd/licensegw-*)
TOOLS    := $(filter-out cmd/licensegw $(PLUGINS),$(wildcard cmd/*))
# Tests that need time on 2 cores get it; the race detector runs on the
# packages where concurrency is the point.
RACE_PKGS := ./gateway/ledger/... ./gateway/journal/... ./sdk/... ./plugins/concurrentlm/...

.PHONY: all build run test test-race vet bench fuzz proto clean

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/...

# Starts the gateway with the repository's config.hcl: embedded NATS on
# 127.0.0.1:4222, the admin API on 127.0.0.1:7648, every plugin it names.
run: build
	./$(BIN)/licensegw serve -config config.hcl

vet:
	$(GO) vet ./...

test: vet build
	$(GO) test -count=1 -timeout 30m ./...
	$(GO) test -count=1 -race -timeout 30m $(RACE_PKGS)

# Benchmarks: engine, journal, ledger, plugin stream and wire codecs (Go
# benchmarks), then `licensegw bench` against a gateway started with
# examples/bench/config.hcl beside a raw TCP echo baseline. BENCHTIME and
# CLIENTS tune it.
BENCHTIME ?= 2s
CLIENTS   ?= 64
bench: build
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) ./gateway/seats/ ./gateway/journal/ ./gateway/ledger/ ./sdk/ ./plugins/concurrentlm/...
	@mkdir -p data; rm -rf data/bench; ./$(BIN)/licensegw serve -config examples/bench/config.hcl 2>data/bench.log & pid=$$!; \
	  trap "kill $$pid 2>/dev/null" EXIT; \
	  for i in $$(seq 50); do ./$(BIN)/licensegw status --addr 127.0.0.1:17648 >/dev/null 2>&1 && break; sleep 0.2; done; \
	  ./$(BIN)/licensegw bench --server 127.0.0.1:11648 --feature bench --clients $(CLIENTS) --duration 10s

# Short coverage-guided runs of every fuzz target (corpora in testdata/fuzz).
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

proto:
	./sdk/proto/gen.sh

clean:
	rm -rf $(BIN)
