# pgseccomp: seccomp confinement for PostgreSQL.
#
#   make demo    install what is missing, build, install, run a confined demo
#   make test    everything CI runs: test-deps, build, install, vet, all tests,
#                then the extension's tests on PostgreSQL 17, 18 and 19
#                (make test PG=18: one major alone)
#   make deps    what building and running need; make test-deps adds what
#                only the tests need; make uninstall undoes make install
#   make pgsuite PG=18, make profile PG=18
#                PostgreSQL's regression suite under that major's shipped
#                profile, and its recording, in the major's matrix root
#
# Runs as root on Debian 12 (apt-get, installing into the server of
# $(PG_CONFIG)); the tests run PostgreSQL as the "postgres" OS user.

PG_CONFIG ?= pg_config
GO ?= go
PREFIX ?= /usr/local
GOTESTFLAGS ?=

# Debian packages building and running need: the compiler, libseccomp's
# headers and PostgreSQL's server headers (PGXS; libkrb5-dev for the GSSAPI
# headers they include), pkg-config (libseccomp-golang's cgo finds
# libseccomp with it), and the server itself. Go is not among them:
# Debian 12's golang-go is 1.19, and go.mod needs GO_MIN (go.dev/dl).
DEB_PACKAGES = gcc make pkg-config libseccomp-dev libkrb5-dev \
	postgresql-15 postgresql-server-dev-15

# Debian packages only the tests need, never on a database server by
# make deps: plperl and IPC::Run3 for PostgreSQL's own suites and the
# workload; systemd (systemd-analyze) and crun check the exported profiles
# for real; gpgv, xz-utils and debian-archive-keyring fetch and verify
# PostgreSQL's source (tests/pgsuite); ssl-cert's snakeoil certificate
# serves the hostssl logins of the Debian-cluster tests; mmdebstrap builds
# the root file systems of the other PostgreSQL majors.
TEST_DEB_PACKAGES = postgresql-plperl-15 libipc-run3-perl \
	systemd crun gpgv xz-utils debian-archive-keyring ssl-cert mmdebstrap

# The Go version go.mod asks for.
GO_MIN := $(shell sed -n 's/^go //p' go.mod)

# apt_install installs the Debian packages of $(1) that are missing,
# refreshing the package lists first only then (a fresh machine's may be
# stale); $(2) names the target in its messages.
define apt_install
	@missing=""; \
	for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "$(2): installing$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	else \
		echo "$(2): all Debian packages present"; \
	fi
endef

.PHONY: all deps test-deps go-version build extension tool install uninstall test test-host matrix vet demo bench fuzz clean pgsuite profile

all: build

# What building and running need (idempotent): Debian packages, a Go new
# enough for go.mod, and the Go modules.
deps: go-version
	$(call apt_install,$(DEB_PACKAGES),deps)
	$(GO) mod download

# What only the tests need, on top of deps (idempotent).
test-deps: deps
	$(call apt_install,$(TEST_DEB_PACKAGES),test-deps)

go-version:
	@v=$$($(GO) env GOVERSION 2>/dev/null | sed 's/^go//'); \
	if [ -z "$$v" ]; then \
		echo "no Go found as '$(GO)': building pgseccomp needs Go >= $(GO_MIN) (Debian 12's golang-go is 1.19): install it from https://go.dev/dl/ and put its bin directory in PATH, or give GO=/path/to/go"; exit 1; \
	fi; \
	if ! printf '%s\n%s\n' "$(GO_MIN)" "$$v" | sort -V -C; then \
		echo "Go $$v is too old: building pgseccomp needs Go >= $(GO_MIN) (go.mod); install it from https://go.dev/dl/, or give GO=/path/to/go"; exit 1; \
	fi

build: extension tool

extension:
	$(MAKE) -C extension PG_CONFIG=$(PG_CONFIG)

tool:
	$(GO) build -o bin/pgseccomp ./cmd/pgseccomp

# DESTDIR stages both into another root, as PGXS's install does.
install: build
	$(MAKE) -C extension PG_CONFIG=$(PG_CONFIG) install
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 bin/pgseccomp $(DESTDIR)$(PREFIX)/bin/pgseccomp

# Removes what install put in place: the extension's files in the server of
# $(PG_CONFIG) (PGXS's uninstall) and the tool. Remove pgseccomp from
# shared_preload_libraries and restart the server first: a server that
# preloads it does not start without it.
uninstall:
	$(MAKE) -C extension PG_CONFIG=$(PG_CONFIG) uninstall
	rm -f $(DESTDIR)$(PREFIX)/bin/pgseccomp

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

# make test runs the host's suite (PostgreSQL 15, below) and then the
# matrix: tests/extension against PostgreSQL 17, 18 and 19, each in its own
# Debian root file system built by mmdebstrap and cached in
# /var/cache/pgseccomp/rootfs (see tests/matrix). PG picks majors:
# make test PG=18 runs 18 alone, PG=15 the host's suite alone, PG="17 19"
# two of the matrix. SKIP_MATRIX=1 leaves the matrix out (for local runs:
# CI runs everything); MATRIX_FLAGS go to tests/matrix (e.g. --run REGEXP).
HOST_MAJOR = 15
MATRIX_MAJORS = 17 18 19
PG ?= $(HOST_MAJOR) $(MATRIX_MAJORS)
SKIP_MATRIX ?=
MATRIX_FLAGS ?=
MATRIX_PG = $(filter-out $(HOST_MAJOR),$(PG))

test: $(if $(filter $(HOST_MAJOR),$(PG)),test-host) $(if $(SKIP_MATRIX),,$(if $(MATRIX_PG),matrix))

matrix: test-deps
	$(GO) run ./tests/matrix --pg '$(MATRIX_PG)' $(MATRIX_FLAGS)

# The tests start their own clusters with the installed extension.
# Then a bounded run of each fuzz target that drives a live cluster; make
# fuzz runs them for longer.
test-host: test-deps install vet
	$(MAKE) -C extension/fuzz check
	PG_CONFIG=$(PG_CONFIG) $(GO) test -count=1 -timeout 30m $(GOTESTFLAGS) ./...
	$(GO) test -run '^$$' -fuzz '^FuzzClientFilter$$' -fuzztime 20s -fuzzminimizetime 5s -parallel 1 ./tests/fuzz
	$(GO) test -run '^$$' -fuzz '^FuzzReloadSettings$$' -fuzztime 20s -fuzzminimizetime 5s -parallel 1 ./tests/fuzz
	$(MAKE) pgsuite PG=$(HOST_MAJOR) PGSUITE_FLAGS='--suite regress'

# PostgreSQL's own test suites (regression, isolation, contrib, PL) against a
# throwaway server that enforces a profile (default: the shipped one for the
# major, error defaults at both layers), judged against the same server
# without pgseccomp. Downloads PostgreSQL's source from Debian (signatures and
# checksums verified) and builds its test programs once, cached in
# /var/cache/pgseccomp/pgsuite. See tests/pgsuite/README.md.
# make pgsuite PG=18 runs the regression suite of another major inside its
# matrix root (tests/matrix), with that major's JIT installed as a default
# Debian install has it, source from its own suite (PGSUITE_SUITE_<major>),
# and the build cached in build/pgsuite; not part of make test.
PGSUITE_PG = $(if $(filter command line,$(origin PG)),$(PG),$(HOST_MAJOR))
SHIPPED_PROFILE = $(wildcard profiles/postgresql-$(PGSUITE_PG)-*.json)
PGSUITE_PROFILE ?= $(SHIPPED_PROFILE)
PGSUITE_FLAGS ?= $(if $(filter $(HOST_MAJOR),$(PGSUITE_PG)),--suite all,--suite regress $(PGSUITE_EXTRA_$(PGSUITE_PG)))
PGSUITE_SUITE_17 = trixie
PGSUITE_SUITE_18 = sid
PGSUITE_SUITE_19 = experimental
# The mirror answers 404 for 17's and 19's orig tarballs (their Sources
# list them): they run 18's suite (make pgsuite PG=18 downloads it first),
# judged only on failures their unconfined baseline does not share.
PGSUITE_SOURCE_18_TARBALL = $(firstword $(wildcard $(CURDIR)/build/pgsuite/downloads/postgresql-18_*.orig.tar.bz2))
PGSUITE_SOURCE_17 = $(PGSUITE_SOURCE_18_TARBALL)
PGSUITE_SOURCE_19 = $(PGSUITE_SOURCE_18_TARBALL)
# On 19rc1, 18.6's join_hash hangs with or without pgseccomp (the leader
# waits for its workers, they for it): 19 runs every other test of the
# schedule, in its order.
PGSUITE_SCHEDULE_18 = $(firstword $(wildcard $(CURDIR)/build/pgsuite/build/postgresql-18.*/postgresql-18.*/src/test/regress/parallel_schedule))
PGSUITE_EXTRA_19 = $(if $(PGSUITE_SCHEDULE_18),--tests $(shell sed -n 's/^test: *//p' $(PGSUITE_SCHEDULE_18) | tr ' ' '\n' | grep -vx -e '' -e test_setup -e join_hash | paste -sd, -))
# What the matrix roots leave out and recording or the suites need: the JIT
# (18 and 19 ship it as postgresql-N-jit, which apt installs as a
# Recommends; 17's is in postgresql-17), and for pgsuite what its download
# and unpacking use and what configure requires from 18 on (bison, flex).
ROOT_JIT = $(if $(filter 18 19,$(1)),postgresql-$(1)-jit)
ROOT_EXTRAS = $(call ROOT_JIT,$(1)) gpgv xz-utils bzip2 bison flex
pgsuite: test-deps tool
	@mkdir -p build
	@if [ "$(words $(PGSUITE_PG))" != 1 ] || [ -z "$(PGSUITE_PROFILE)" ]; then \
		echo "pgsuite: PG=$(PGSUITE_PG): name one major with a shipped profile, or give PGSUITE_PROFILE=FILE"; exit 2; fi
	bin/pgseccomp profile conf $(PGSUITE_PROFILE) --enforce error > build/pgsuite-profile-$(PGSUITE_PG).conf
	echo "shared_preload_libraries = 'pgseccomp'" >> build/pgsuite-profile-$(PGSUITE_PG).conf
ifeq ($(PGSUITE_PG),$(HOST_MAJOR))
	$(GO) run ./tests/pgsuite $(PGSUITE_FLAGS) --conf build/pgsuite-profile-$(PGSUITE_PG).conf --baseline
else
	$(GO) build -o bin/pgsuite ./tests/pgsuite
	$(GO) run ./tests/matrix --pg $(PGSUITE_PG) -- sh tests/matrix/with-packages.sh "$(call ROOT_EXTRAS,$(PGSUITE_PG))" \
		bin/pgsuite $(PGSUITE_FLAGS) --conf build/pgsuite-profile-$(PGSUITE_PG).conf --baseline \
		$(if $(PGSUITE_SOURCE_$(PGSUITE_PG)),--other-major --source $(PGSUITE_SOURCE_$(PGSUITE_PG)),--debian-codename $(PGSUITE_SUITE_$(PGSUITE_PG))) \
		--cache-dir $(CURDIR)/build/pgsuite
endif

# Records the profile of another major inside its matrix root with the
# built-in workload (make profile PG=18): build/profile-18/. A shipped
# profile is that file, renamed postgresql-<major>-<distribution>-<arch>.json
# into profiles/, once make pgsuite PG=<major> passed with it.
profile: tool
	@if [ "$(words $(PGSUITE_PG))" != 1 ] || [ "$(PGSUITE_PG)" = "$(HOST_MAJOR)" ]; then \
		echo "profile: name one major of the matrix, e.g. PG=18 (for the host's, run bin/pgseccomp record)"; exit 2; fi
	@mkdir -p build/profile-$(PGSUITE_PG)
	$(GO) run ./tests/matrix --pg $(PGSUITE_PG) -- sh tests/matrix/with-packages.sh "$(call ROOT_JIT,$(PGSUITE_PG))" \
		bin/pgseccomp record --builtin --out build/profile-$(PGSUITE_PG)

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
