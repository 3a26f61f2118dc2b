# make test: installs Redis if missing, vets, and runs every suite under -race.
# The suites start their own redis-server / redis-sentinel processes on free
# loopback ports; nothing needs to be running beforehand.

GO ?= go
TEST_TIMEOUT ?= 18m
# FUZZTIME is how much fuzz-short runs each fuzz target: an execution count
# (20000x: 1-6 s each here), not a duration, because with a duration Go 1.26's
# fuzz coordinator can fail a healthy target with "context deadline exceeded"
# when the time runs out mid-execution on a loaded machine
# (go.dev/issue/75804, fixed in Go 1.27; it failed our CI once). For a long
# run, e.g. before a release: make fuzz-short FUZZTIME=5000000x (or a
# duration such as 10m, and rerun a bare "context deadline exceeded" that
# wrote no failing input).
FUZZTIME ?= 20000x

.PHONY: test deps vet tidy unit fuzz-short quickstart bench

test: deps vet tidy unit fuzz-short

deps:
	./scripts/install-redis.sh

vet:
	$(GO) vet ./...
	cd tests/bench && $(GO) vet ./...

# tidy fails when go.mod or go.sum would change under go mod tidy (a direct
# dependency marked indirect, a stale checksum), in both modules.
tidy:
	$(GO) mod tidy -diff
	cd tests/bench && $(GO) mod tidy -diff

unit:
	$(GO) test -race -timeout $(TEST_TIMEOUT) ./...

# fuzz-short runs every fuzz target for FUZZTIME, one at a time (go test
# -fuzz takes one target per run). The committed seed corpora under
# testdata/fuzz/ also run as plain tests in unit. A failing input is written
# to testdata/fuzz/<FuzzName>/ of its package: commit it with the fix.
fuzz-short:
	$(GO) test -run '^$$' -fuzz '^FuzzMatchGlob$$' -fuzztime $(FUZZTIME) ./domain/
	$(GO) test -run '^$$' -fuzz '^FuzzKeyIsolation$$' -fuzztime $(FUZZTIME) ./domain/
	$(GO) test -run '^$$' -fuzz '^FuzzJSONCodec$$' -fuzztime $(FUZZTIME) ./app/
	$(GO) test -run '^$$' -fuzz '^FuzzSugDict$$' -fuzztime $(FUZZTIME) ./adapters/memory/

quickstart:
	$(GO) run ./examples/quickstart

# bench compares the ClientCache with go-redis' built-in cache and rueidis,
# side by side in one run (tests/bench, a nested module). See
# tests/bench/README.md for the settings.
bench:
	./tests/bench/run.sh
