# Test and build targets. `make test` is what CI (.ci/run) runs.
GO ?= go
FUZZTIME ?= 10s

.PHONY: test unit race purego fuzz build vet bench proto

build:
	$(GO) build -o bin/bacoctl ./cmd/bacoctl

vet:
	$(GO) vet ./...

# The whole suite: vet, unit and integration tests (race detector on the
# concurrent packages), the portable kernels, and a short fuzz pass.
test: vet unit race purego fuzz

unit:
	$(GO) test -count=1 ./...

race:
	$(GO) test -count=1 -race ./core/... ./pipeline/... ./cmd/... ./server/...

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
