# Remit: `make test` runs every test; it installs the Go test tools it lacks.
GO      ?= go
GOBIN   := $(shell $(GO) env GOPATH)/bin
export PATH := $(GOBIN):$(PATH)

.PHONY: test tools bench load lint fuzz run

test: tools
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 25m ./...

# stripe-mock is the real Stripe API mock the payment tests talk to.
tools:
	@command -v stripe-mock >/dev/null 2>&1 || { echo "installing stripe-mock"; $(GO) install github.com/stripe/stripe-mock@v0.203.0; }
	@command -v pdftotext >/dev/null 2>&1 || echo "note: pdftotext (poppler-utils) is missing; PDF text tests will be skipped"
	@command -v chromium >/dev/null 2>&1 || echo "note: chromium is missing; the browser tests will be skipped (apt-get install -y chromium)"

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The load report of docs/PERFORMANCE.md: Remit against a bare Echo + SQLite handler.
load:
	$(GO) run ./cmd/remit loadtest

# Each fuzz target for FUZZTIME (not part of `make test`, which runs only the
# seed corpora in testdata/fuzz/). A failing input is saved there; commit it
# with the fix so it stays a regression test.
FUZZTIME ?= 20s
# Minimizing each new interesting input re-sends it many times; keep that short.
FUZZMINIMIZETIME ?= 5s
FUZZ_TARGETS := ./domain:FuzzParseQuantity ./domain:FuzzParseRate ./domain:FuzzLineAmounts ./domain:FuzzParseDate ./domain:FuzzFormatAmount \
	./cmd/remit:FuzzCreateEndpoints ./cmd/remit:FuzzStripeWebhook
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test $$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZETIME); \
	done

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

run:
	$(GO) run ./cmd/remit
