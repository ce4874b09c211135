// Command baco-backend-gguf serves the embedded GGUF engine as a baco
// backend plugin. The host's parameter string is the model path (or a JSON
// object with model, context_len and threads).
package main

import "github.com/baco-go/baco/plugins/backends/gguf/ggufbackend"

func main() { ggufbackend.Serve() }
