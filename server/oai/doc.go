// Package oai holds the wire types of the OpenAI-compatible API that
// `bacoctl serve` speaks: request bodies with their decoding and
// validation (bounded, never panicking on any input), response and
// streaming-chunk bodies, and OpenAI-style error objects. It knows nothing
// of models or decoding; package server maps these types onto pipelines.
//
// BACo adds one request member, "baco" (Extension), and one member to each
// choice, "baco" (ChoiceExtension), carrying every token's source.
package oai
