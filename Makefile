# virthost: the two commands a new user runs are `make run` and `make test`.
# Everything they need (Debian packages, libvirtd, the test guest) is installed
# or started here, idempotently.

SHELL := /bin/bash
SWIFT ?= swift
PYTHON_ENV := .cache/python
DEBUG_BIN = $(shell $(SWIFT) build --show-bin-path)
RELEASE_BIN = $(shell $(SWIFT) build -c release --show-bin-path)
# Release builds link the Swift runtime statically, as the Debian package
# ships them (scripts/build-deb.sh): run, bench and deb share one build (no
# relinking between them), and the benchmarks time the binaries users run.
RELEASE_BUILD = $(SWIFT) build -c release --static-swift-stdlib
VERSION = $(shell sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/VirtHostServer/Daemon/DaemonVersion.swift)
DEB = dist/virthost_$(VERSION)_$(shell dpkg --print-architecture).deb
# Runs a command as a named phase; under make test (VIRTHOST_PHASE_TIMES set,
# below) its time is recorded and printed at the end, otherwise it just runs.
PHASE = scripts/phase-times.sh run

.PHONY: all build release run test test-swift test-python deps deps-hypervisor libvirtd guest \
        generate clean-test-host clean help deb bench bench-scale

all: build

help:
	@echo "make run              build release and serve the demo host (no libvirtd needed)"
	@echo "make test             install what is missing, start libvirtd, run every test"
	@echo "make build            debug build"
	@echo "make deb              build $(DEB) (static release binaries, units, man pages)"
	@echo "make generate         regenerate Sources/VirtHostAPI, the Go and Python stubs from proto/"
	@echo "make bench            libvirt in-process vs the agent vs virsh vs a raw socket (BENCH_ARGS=...)"
	@echo "make bench-scale      lists and statistics with 1,000 machines, 1,000 volumes, 100 networks (qemu:///system)"
	@echo "make clean-test-host  remove what a crashed test run left behind (prefix vht-)"

deps:
	@scripts/host-deps.sh

deps-hypervisor:
	@$(PHASE) "deps install" scripts/host-deps.sh --hypervisor

build: deps
	$(SWIFT) build

release: deps
	$(RELEASE_BUILD)

# The Debian package: release binaries with the Swift runtime linked in, the
# systemd units, the configuration, man pages and completions.
deb: deps
	@scripts/build-deb.sh

# Serve libvirt's in-process test driver loaded with packaging/demo/host.xml.
run: release
	@scripts/run-demo.sh "$(RELEASE_BIN)"

libvirtd: deps-hypervisor
	@$(PHASE) "libvirtd start" scripts/start-libvirtd.sh

guest: deps-hypervisor
	@$(PHASE) "guest build" scripts/build-guest.sh

$(PYTHON_ENV)/.ready: Makefile
	@$(PHASE) "python venv" python3 -m venv $(PYTHON_ENV)
	@$(PHASE) "python venv" $(PYTHON_ENV)/bin/pip install -q --disable-pip-version-check grpcio grpcio-tools grpcio-status \
		grpcio-health-checking grpcio-reflection pytest pyyaml
	@touch $@

# Every test: the binding, the services over a socket, the CLI, the real
# hypervisor (libvirtd + a TCG guest), and a Python grpcio client.
# At the end (or when a phase fails) the time of each phase and the total.
test: export VIRTHOST_PHASE_TIMES := $(CURDIR)/.cache/phase-times/$(shell date +%Y%m%d-%H%M%S.%N)
test: deps-hypervisor libvirtd guest $(PYTHON_ENV)/.ready
	$(PHASE) "swift build" $(SWIFT) build --build-tests
	$(PHASE) deb $(MAKE) --no-print-directory deb
	$(MAKE) --no-print-directory test-swift test-python VIRTHOST_DEB="$(CURDIR)/$(DEB)" VIRTHOST_QEMU=1
	@scripts/phase-times.sh report

# Unit and socket tests in parallel; end-to-end suites one at a time, since
# each boots TCG guests on a 2-core machine.
# Each line is a phase of make test's timing: $(PHASE) NAME env VAR=... COMMAND.
test-swift:
	$(PHASE) "unit tests" env VIRTHOST_BIN_DIR="$(DEBUG_BIN)" $(SWIFT) test --skip-build --skip EndToEndTests
	# The service and CLI suites again, every call over the agent's ttrpc socket
	# (what the CLI speaks on a packaged host).
	$(PHASE) "ttrpc pass" env VIRTHOST_TRANSPORT=ttrpc VIRTHOST_BIN_DIR="$(DEBUG_BIN)" $(SWIFT) test --skip-build \
		--filter "VirtHostServerTests|VirtHostCLITests" --skip SoakTests
	$(PHASE) "end-to-end" env VIRTHOST_BIN_DIR="$(DEBUG_BIN)" VIRTHOST_GUEST_DIR="$(CURDIR)/.cache/guest" \
		$(SWIFT) test --skip-build --filter EndToEndTests --no-parallel

# Python: grpcio interop, ttrpc, packaging, the Python package (clients/python),
# health and reflection. Then the Go module (clients/go), built offline from
# Debian's Go sources, against the demo host and qemu:///system.
# VIRTHOST_QEMU=1 (make test) makes an unreachable qemu:///system a failure.
test-python: $(PYTHON_ENV)/.ready
	$(PHASE) python env VIRTHOST_BIN_DIR="$(DEBUG_BIN)" VIRTHOST_DEB="$(VIRTHOST_DEB)" VIRTHOST_QEMU="$(VIRTHOST_QEMU)" \
		$(PYTHON_ENV)/bin/python -m pytest -q Tests/python
	$(PHASE) "go client" env VIRTHOST_BIN_DIR="$(DEBUG_BIN)" VIRTHOST_QEMU="$(VIRTHOST_QEMU)" clients/go/build.sh check

# The benchmark (BENCHMARKS.md): release build, test:///default, then
# qemu:///system when libvirtd answers, with a TCG guest (vhb-PID, booted and
# removed by scripts/bench-guest.sh; BENCH_GUEST=0 skips it) for the agent-ping
# rows. Path e (Python grpcio) when the venv of make test exists.
# Extra flags: make bench BENCH_ARGS="--calls 20000". Then disk moves and
# backups against virsh blockcopy / backup-begin on a guest's disk
# (scripts/bench-diskjobs.sh; BENCH_DISKJOB_ARGS="ROUNDS SIZE_MIB").
BENCH_GUEST ?= 1
BENCH_PYTHON = $(if $(wildcard $(PYTHON_ENV)/bin/python),--python "$(CURDIR)/$(PYTHON_ENV)/bin/python")
bench: deps
	$(RELEASE_BUILD) --product virthostd
	$(RELEASE_BUILD) --product virthost
	$(RELEASE_BUILD) --product virthost-bench
	"$(RELEASE_BIN)/virthost-bench" --connect test:///default $(BENCH_PYTHON) $(BENCH_ARGS)
	@if ! virsh -q -c qemu:///system version >/dev/null 2>&1; then \
		echo "make bench: qemu:///system does not answer (make libvirtd), skipped"; \
	elif [ "$(BENCH_GUEST)" = 1 ]; then \
		echo; scripts/bench-guest.sh "$(RELEASE_BIN)/virthost-bench" --connect qemu:///system $(BENCH_PYTHON) $(BENCH_ARGS); \
	else echo; "$(RELEASE_BIN)/virthost-bench" --connect qemu:///system $(BENCH_PYTHON) $(BENCH_ARGS); fi
	@if [ "$(BENCH_GUEST)" = 1 ] && virsh -q -c qemu:///system version >/dev/null 2>&1; then \
		echo; scripts/bench-diskjobs.sh "$(RELEASE_BIN)" $(BENCH_DISKJOB_ARGS); fi

# The scale benchmark (BENCHMARKS.md): 1,000 shut-off machines, 1,000 volumes
# and 100 networks on qemu:///system (prefix vhs-PID-, removed at the end even
# on failure), then list and statistics latency of the agent (gRPC, ttrpc), the
# virthost CLI, virsh and the bare bulk libvirt calls. Not part of make test.
# Sizes: SCALE_DOMAINS, SCALE_VOLUMES, SCALE_NETWORKS; BENCH_ARGS="--scale-runs 9".
bench-scale: deps
	$(RELEASE_BUILD) --product virthostd
	$(RELEASE_BUILD) --product virthost
	$(RELEASE_BUILD) --product virthost-bench
	@virsh -q -c qemu:///system version >/dev/null 2>&1 || { echo "make bench-scale: qemu:///system does not answer (make libvirtd)"; exit 1; }
	scripts/bench-scale.sh "$(RELEASE_BIN)/virthost-bench" $(BENCH_ARGS)

generate:
	@scripts/generate.sh

clean-test-host:
	@scripts/clean-test-host.sh vht-

clean:
	rm -rf .build .run
