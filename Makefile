# The two commands a newcomer runs, as root on a fresh Debian machine:
#   make run    build, then bring up the examples/ folder
#   make test   install what tests need, then vet, gofmt and all tests
SHELL := /bin/bash
GO ?= go
BIN := bin/reconciler
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
STATE ?= $(CURDIR)/.state
SOCKET ?= /run/reconciler/reconciler.sock
# Debian packages the tests use: busybox for test images, docker.io for the
# real docker CLI and dockerd peers, tini for run --init (docker-init links
# to its tini-static), runc for benchmarks, iproute2 for hosts,
# docker-registry for push/pull round trips.
DEB_PACKAGES := busybox-static docker.io tini runc iproute2 ca-certificates docker-registry
TEST_TIMEOUT ?= 25m

.PHONY: all build run test deps vet fmt-check unit bench bench-quick fuzz lint clean examples

all: build

# reconciler-shim, the small helper every container's shim and init run
# from, goes beside the binary (the runtime uses it when it is the same build).
build: examples
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(dir $(BIN)) ./cmd/reconciler ./cmd/reconciler-shim

# The example app's static HTTP server, COPYed into its FROM scratch image.
examples:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o examples/counter/counter ./examples/counter

# The main job: the daemon on a state root under the repo, keeping this
# host matching examples/ (drop, edit or remove a manifest there and watch).
run: build
	@echo "reconciler: serving the Docker API on $(SOCKET), metrics on http://127.0.0.1:9323/metrics"
	@echo "reconciler: applying examples/; then try: curl http://localhost:8080/   (Ctrl-C stops the daemon; containers keep running)"
	./$(BIN) --root $(STATE) daemon -H unix://$(SOCKET) --watch examples/

# deps installs what the tests need on a fresh Debian machine (idempotent).
deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else echo "not root: skipping install of$$missing (tests that need them will skip)"; fi; \
	fi
	$(GO) mod download

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

test: deps build vet fmt-check unit

# bench runs the benchmarks beside the peers installed here (docker build,
# runc, docker run, dockerd), prints one table (ours, peer, ratio, target)
# and writes it with the machine's facts to bench/RESULTS.md; about 5 min
# on 2 cores, as root. bench-quick is a ~2 min smoke run that writes nothing.
bench: deps build
	$(GO) run ./bench/report -bin $(BIN) -out bench/RESULTS.md

bench-quick: build
	$(GO) run ./bench/report -bin $(BIN) -quick

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 60s ./spec

lint: vet fmt-check

clean:
	rm -rf bin $(STATE) examples/counter/counter
