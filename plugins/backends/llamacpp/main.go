// Command baco-backend-llamacpp serves a llama.cpp server (llama-server) as
// a baco backend plugin. The host's parameter string is the server URL or
// a JSON object of options (see plugins/backends/httpbackends).
package main

import "github.com/baco-go/baco/plugins/backends/httpbackends"

func main() { httpbackends.ServeLlamaCpp() }
