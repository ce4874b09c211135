// Package pluginv1 is the generated Go code of the baco plugin protocol,
// major version 1 (protobuf package baco.plugin.v1, plugin.proto beside
// this file). Plugin authors do not use it directly: sdk/plugin converts
// between these messages and the core's Go types at the edge.
//
// The generated files are committed; regenerate them with `go generate`
// (needs protoc, see ../generate.sh).
package pluginv1

//go:generate sh ../generate.sh
