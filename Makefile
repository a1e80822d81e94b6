# licensegw — two commands on a fresh machine: `make run` and `make test`.

GO       ?= go
BIN      ?= bin

# Version stamping: every binary says which licensegw it is (licensegw
# version, --version, lmver, HELLO server=). VERSION and COMMIT may be set
# on the command line (make VERSION=1.2.3); COMMIT is the checkout's
# revision, "-dirty" when it has uncommitted changes.
VERSION  ?= 0.1.0
COMMIT   ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
VERSION_PKG := github.com/licensegw/licensegw/internal/version
LDFLAGS  := -X $(VERSION_PKG).Version=$(VERSION) -X $(VERSION_PKG).Commit=$(COMMIT)

# make install PREFIX=/usr/local (the default) puts the binaries in
# $(PREFIX)/bin; DESTDIR stages the tree for a package.
CMDS     ?= ./cmd/...
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin

.PHONY: all build run cluster test vet bench fuzz mutate proto clean install uninstall

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ $(CMDS)

# Installs licensegw, its plugins, lmutil and lsmon. The plugins are found
# by the path in the configuration's plugin blocks: point them at
# $(BINDIR)/licensegw-<plugin>.
install: build
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(BIN)/licensegw $(BIN)/licensegw-* $(BIN)/lmutil $(BIN)/lsmon $(DESTDIR)$(BINDIR)/

uninstall:
	cd $(DESTDIR)$(BINDIR) && rm -f licensegw licensegw-* lmutil lsmon

# Starts the gateway with the repository's config.hcl: embedded NATS on
# 127.0.0.1:4222, the admin API on 127.0.0.1:7648, every plugin it names.
run: build
	$(BIN)/licensegw serve -config config.hcl

# Starts three gateways on this machine as one cluster (examples/cluster):
# one leads, the others stand by and take over when it stops. Ctrl-C stops
# all three.
cluster: build
	examples/cluster/run.sh $(BIN)

# The SDK is a Go module of its own (sdk/go.mod, so plugin authors do not
# pull the gateway's dependencies); the root module uses it through a
# replace directive. vet and test cover both modules.
vet:
	$(GO) vet ./...
	cd sdk && $(GO) vet ./...

# Every test, with the race detector: unit, property-based (rapid), fuzz
# seed corpora, and end-to-end tests that build and run the binaries.
# The dashboard test drives a real headless Chromium: .ci/ensure-chromium
# installs Debian's chromium when it is missing, and the test then fails
# rather than skips without it.
test: vet build
	./.ci/ensure-chromium
	LICENSEGW_REQUIRE_CHROMIUM=1 $(GO) test -race -count=1 -timeout 45m ./...
	cd sdk && $(GO) test -race -count=1 -timeout 10m ./...

# Benchmarks: engine, journal, ledger, plugin stream and wire codecs (Go
# benchmarks), then `licensegw bench` against a gateway started with
# examples/bench/config.hcl: a raw TCP echo baseline, the gateway without
# and with nonce= (signed grants), each with CPU µs and allocations per
# request of every process, then one client's PING vs HEARTBEAT; then
# relay claim -> release cycles beside a trivial net/http handler
# (RELAY_CLIENTS, RELAY_DURATION); then failover time over FAILOVER_KILLS
# kill -9s of a three-node cluster's leader under load (kill -> next node
# ready -> first grant answered), and hand-over time over FAILOVER_STEPDOWNS
# `leader step-down`s and FAILOVER_TERMS SIGTERMs of the leader (command ->
# first grant the next leader decided, with both nodes' logged phases).
# The journal's R1 vs R3 pairs/s and p99
# are BenchmarkPairsR1R3 (gateway/journal). BENCHTIME, CLIENTS and
# BENCH_DURATION (each licensegw bench run) tune it.
BENCHTIME      ?= 2s
CLIENTS        ?= 64
BENCH_DURATION ?= 10s
FAILOVER_KILLS ?= 10
FAILOVER_STEPDOWNS ?= 10
FAILOVER_TERMS ?= 10
bench: build
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) ./gateway/seats/ ./gateway/journal/ ./gateway/ledger/ ./gateway/report/ ./plugins/concurrentlm/...
	cd sdk && $(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) .
	@mkdir -p data; rm -rf data/bench; $(BIN)/licensegw serve -config examples/bench/config.hcl 2>data/bench.log & pid=$$!; \
	  trap "kill $$pid 2>/dev/null" EXIT; \
	  for i in $$(seq 50); do $(BIN)/licensegw status --addr 127.0.0.1:17648 --config examples/bench/config.hcl >/dev/null 2>&1 && break; sleep 0.2; done; \
	  $(BIN)/licensegw bench --server 127.0.0.1:11648 --flexlm 127.0.0.1:12710 --sentinel 127.0.0.1:15093 --feature bench --clients $(CLIENTS) --duration $(BENCH_DURATION) \
	    --addr 127.0.0.1:17648 --config examples/bench/config.hcl
	RELAY_BENCH=1 LICENSEGW_E2E_BIN=$(abspath $(BIN)) $(GO) test -count=1 -run '^TestRelayBench$$' -v ./internal/e2e/vendors/
	FAILOVER_BENCH=1 FAILOVER_KILLS=$(FAILOVER_KILLS) FAILOVER_STEPDOWNS=$(FAILOVER_STEPDOWNS) FAILOVER_TERMS=$(FAILOVER_TERMS) LICENSEGW_E2E_BIN=$(abspath $(BIN)) $(GO) test -count=1 -timeout 30m -run '^TestFailoverBench$$' -v ./internal/e2e/

# Short coverage-guided runs of every fuzz target (corpora in testdata/fuzz).
FUZZTIME ?= 20s
fuzz:
	@for mod in . sdk; do \
	  for pkg in $$(cd $$mod && $(GO) list ./...); do \
	    for t in $$(cd $$mod && $(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	      echo "== $$pkg $$t"; (cd $$mod && $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg) || exit 1; \
	    done; \
	  done; \
	done

# Applies known bugs one at a time to a temporary copy of the tree and
# requires the tests of the packages each touches to fail; prints which
# tests caught each one (internal/mutate/mutations.go lists them).
mutate:
	$(GO) run ./internal/mutate

proto:
	./sdk/proto/gen.sh

clean:
	rm -rf $(BIN)
