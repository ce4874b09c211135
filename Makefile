# Test and build targets. `make test` is what CI (.ci/run) runs.
GO ?= go
FUZZTIME ?= 10s

.PHONY: test unit race purego fuzz build vet bench proto example

build:
	$(GO) build -o bin/bacoctl ./cmd/bacoctl

vet:
	$(GO) vet ./...

# The whole suite: vet, unit and integration tests (race detector on the
# concurrent packages), the portable kernels, and a short fuzz pass.
test: vet unit race purego example fuzz

unit:
	$(GO) test -count=1 ./...

race:
	$(GO) test -count=1 -race ./core/... ./pipeline/... ./cmd/... ./server/... ./sdk/... ./pluginhost/... ./plugins/...

# The third-party router plugin example is its own module.
example:
	cd examples/router-plugin && $(GO) vet ./... && $(GO) test -count=1 ./...

# Regenerates sdk/proto (needs protoc; CI does not regenerate).
proto:
	$(GO) generate ./sdk/proto/...

purego:
	$(GO) test -count=1 -tags purego ./engine/tensor/...

fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./engine/gguf
	$(GO) test -run='^$$' -fuzz='^FuzzEncodeSPM$$' -fuzztime=$(FUZZTIME) ./engine/tokenizer
	$(GO) test -run='^$$' -fuzz='^FuzzEncodeBPE$$' -fuzztime=$(FUZZTIME) ./engine/tokenizer
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeCompletionRequest$$' -fuzztime=$(FUZZTIME) ./server/oai
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeChatRequest$$' -fuzztime=$(FUZZTIME) ./server/oai

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./core/... ./engine/...
