#!/bin/sh
# Regenerates the Go code of the baco plugin protocol from its .proto files.
# Needs protoc (Debian: apt-get install protobuf-compiler); installs the
# pinned protoc-gen-go and protoc-gen-go-grpc from the Go module proxy into a
# temporary GOBIN. CI does not run this: the generated code is committed.
set -eu
cd "$(dirname "$0")"
PROTOC_GEN_GO_VERSION=v1.36.11
PROTOC_GEN_GO_GRPC_VERSION=v1.6.1
command -v protoc >/dev/null || { echo "generate.sh: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
GOBIN=$bin go install google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION
GOBIN=$bin go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION
for dir in pluginv1; do
	PATH="$bin:$PATH" protoc -I "$dir" \
		--go_out="$dir" --go_opt=paths=source_relative \
		--go-grpc_out="$dir" --go-grpc_opt=paths=source_relative \
		"$dir"/*.proto
done
