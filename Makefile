# pgseccomp: seccomp confinement for PostgreSQL.
#
#   make demo    install what is missing, build, install, run a confined demo
#   make test    everything CI runs: deps, build, install, vet, all tests
#
# Runs as root on Debian 12 (apt-get, installing into the server of
# $(PG_CONFIG)); the tests run PostgreSQL as the "postgres" OS user.

PG_CONFIG ?= pg_config
GO ?= go
PREFIX ?= /usr/local
GOTESTFLAGS ?=

# Debian packages the build, the tests and the demo need.
# systemd (systemd-analyze) and crun check the exported profiles for real;
# gpgv, xz-utils and debian-archive-keyring fetch and verify PostgreSQL's
# source for its own test suites (tests/pgsuite).
DEB_PACKAGES = gcc make libseccomp-dev libkrb5-dev \
	postgresql-15 postgresql-server-dev-15 \
	postgresql-plperl-15 libipc-run3-perl \
	systemd crun gpgv xz-utils debian-archive-keyring

.PHONY: all deps build extension tool install test vet demo bench fuzz clean pgsuite

all: build

# Idempotent: refresh the package lists and install only when something is
# missing, since a fresh machine's lists may be stale.
deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	else \
		echo "deps: all Debian packages present"; \
	fi
	$(GO) mod download

build: extension tool

extension:
	$(MAKE) -C extension PG_CONFIG=$(PG_CONFIG)

tool:
	$(GO) build -o bin/pgseccomp ./cmd/pgseccomp

install: build
	$(MAKE) -C extension PG_CONFIG=$(PG_CONFIG) install
	install -m 0755 bin/pgseccomp $(PREFIX)/bin/pgseccomp

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

# The tests start their own clusters with the installed extension.
# Then a bounded run of each fuzz target that drives a live cluster; make
# fuzz runs them for longer.
test: deps install vet
	$(MAKE) -C extension/fuzz check
	PG_CONFIG=$(PG_CONFIG) $(GO) test -count=1 -timeout 30m $(GOTESTFLAGS) ./...
	$(GO) test -run '^$$' -fuzz '^FuzzClientFilter$$' -fuzztime 20s -fuzzminimizetime 5s -parallel 1 ./tests/fuzz
	$(GO) test -run '^$$' -fuzz '^FuzzReloadSettings$$' -fuzztime 20s -fuzzminimizetime 5s -parallel 1 ./tests/fuzz
	$(MAKE) pgsuite PGSUITE_FLAGS='--suite regress'

# PostgreSQL's own test suites (regression, isolation, contrib, PL) against a
# throwaway server that enforces a profile (default: the shipped one, error
# defaults at both layers), judged against the same server without
# pgseccomp. Downloads PostgreSQL's source from Debian (signatures and
# checksums verified) and builds its test programs once, cached in
# /var/cache/pgseccomp/pgsuite. See tests/pgsuite/README.md.
SHIPPED_PROFILE = profiles/postgresql-15-debian-12-x86_64.json
PGSUITE_PROFILE ?= $(SHIPPED_PROFILE)
PGSUITE_FLAGS ?= --suite all
pgsuite: tool
	@mkdir -p build
	bin/pgseccomp profile conf $(PGSUITE_PROFILE) --enforce error > build/pgsuite-profile.conf
	echo "shared_preload_libraries = 'pgseccomp'" >> build/pgsuite-profile.conf
	$(GO) run ./tests/pgsuite $(PGSUITE_FLAGS) --conf build/pgsuite-profile.conf --baseline

demo: deps install
	bin/pgseccomp demo

# Speed is measured here, never in make test. Each driver prints a table and
# writes JSON under bench/results/.
bench: deps install
	$(GO) run ./bench/syscalls
	$(GO) run ./bench/confinement
	$(GO) run ./bench/reload

# Longer fuzzing than make test does: the C list parser with libFuzzer under
# ASAN/UBSAN for FUZZ_SECONDS (default 300, see extension/fuzz), then each
# fuzz target that drives a live cluster for FUZZTIME each (each fuzzing
# worker starts its own cluster; short minimizing leaves more time for new
# inputs). A failing input is saved under tests/fuzz/testdata/fuzz/ (replay
# it with go test -run).
# Figures the fuzzing workers report (the postmaster's RSS across reloads)
# are printed at the end.
FUZZTIME ?= 10m
FUZZ_PARALLEL ?= 1
LIVE_FUZZ_TARGETS = FuzzClientFilter FuzzReloadSettings

fuzz: deps install
	$(MAKE) -C extension/fuzz fuzz
	@mkdir -p bin && rm -f bin/fuzz-report.txt
	@for target in $(LIVE_FUZZ_TARGETS); do \
		echo "fuzz: $$target for $(FUZZTIME)"; \
		PGSECCOMP_FUZZ_REPORT=$(CURDIR)/bin/fuzz-report.txt \
		$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) \
			-fuzzminimizetime 10s -parallel $(FUZZ_PARALLEL) -timeout 0 \
			./tests/fuzz || exit 1; \
	done
	@if [ -f bin/fuzz-report.txt ]; then cat bin/fuzz-report.txt; fi

clean:
	$(MAKE) -C extension clean
	$(MAKE) -C extension/fuzz clean
	rm -rf bin build extension/results extension/regression.diffs extension/regression.out
