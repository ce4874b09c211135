// Command baco-backend-openai serves an OpenAI-compatible completions
// server as a baco backend plugin. The host's parameter string is the API
// base URL or a JSON object of options (see plugins/backends/httpbackends).
package main

import "github.com/baco-go/baco/plugins/backends/httpbackends"

func main() { httpbackends.ServeOpenAI() }
