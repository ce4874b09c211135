package score

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/baco-go/baco/core/backend/backendtest"
)

// logSoftmax computes log p by hand: l_i − log Σ_j e^{l_j}.
func logSoftmax(l []float32) []float64 {
	var s float64
	for _, x := range l {
		s += math.Exp(float64(x))
	}
	out := make([]float64, len(l))
	for i, x := range l {
		out[i] = float64(x) - math.Log(s)
	}
	return out
}

// nextUp gives the token after the last one a logit of 2, all others 0:
// log p(last+1) = 2 − log(e² + V − 1), any other token −log(e² + V − 1).
func nextUp(v int) backendtest.LogitsFunc {
	return func(ctx []int32) []float32 {
		out := make([]float32, v)
		out[(int(ctx[len(ctx)-1])+1)%v] = 2
		return out
	}
}

func TestLogProbsHandComputed(t *testing.T) {
	v := len(backendtest.Vocab())
	f := backendtest.New("m", nextUp(v))
	ctx := context.Background()
	// Prompt [1 5]; response [6 7 3]: 6 and 7 follow their predecessor,
	// 3 does not.
	got, err := LogProbs(ctx, f, []int32{1, 5}, [][]int32{{6, 7, 3}, {}, {9}})
	if err != nil {
		t.Fatal(err)
	}
	z := math.Log(math.Exp(2) + float64(v-1))
	want := [][]float64{{2 - z, 2 - z, -z}, {}, {-z}}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("response %d: %v, want %v", i, got[i], want[i])
		}
		for k := range want[i] {
			if math.Abs(got[i][k]-want[i][k]) > 1e-6 {
				t.Errorf("response %d token %d: %v, want %v", i, k, got[i][k], want[i][k])
			}
		}
	}
	if f.Live() != 0 {
		t.Errorf("%d sequences not freed", f.Live())
	}
}

// A response longer than Chunk crosses chunk boundaries; each token's
// log-probability must equal the log-softmax of the logits of its prefix.
func TestLogProbsChunks(t *testing.T) {
	v := len(backendtest.Vocab())
	logits := backendtest.HashLogits(v, "chunks")
	f := backendtest.New("m", logits)
	prompt := []int32{1, 7}
	resp := make([]int32, 2*Chunk+5)
	for i := range resp {
		resp[i] = int32(3 + (i*7)%(v-3))
	}
	got, err := LogProbs(context.Background(), f, prompt, [][]int32{resp})
	if err != nil {
		t.Fatal(err)
	}
	seq := slices.Clone(prompt)
	for i, id := range resp {
		want := logSoftmax(logits(seq))[id]
		if math.Abs(got[0][i]-want) > 1e-5 {
			t.Fatalf("token %d: %v, want %v", i, got[0][i], want)
		}
		seq = append(seq, id)
	}
}

func TestModelEmbedder(t *testing.T) {
	v := len(backendtest.Vocab())
	logits := backendtest.HashLogits(v, "emb")
	f := backendtest.New("m", logits)
	ctx := context.Background()
	e, err := NewModelEmbedder(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Embed(ctx, []string{"cat dog", ""})
	if err != nil {
		t.Fatal(err)
	}
	if got[1] != nil {
		t.Errorf("empty text: %v", got[1])
	}
	// Positions after "▁cat" (id 7) and "▁dog" (id 8), BOS (1) first: the
	// mean of the two softmax probability vectors.
	want := make([]float64, v)
	for _, prefix := range [][]int32{{1, 7}, {1, 7, 8}} {
		for i, x := range logSoftmax(logits(prefix)) {
			want[i] += math.Exp(x) / 2
		}
	}
	for i := range want {
		if math.Abs(got[0][i]-want[i]) > 1e-5 {
			t.Fatalf("dim %d: %v, want %v", i, got[0][i], want[i])
		}
	}
	if !strings.HasPrefix(e.Name(), "gguf-prob-pool:m:") {
		t.Errorf("name %q", e.Name())
	}
}

func TestOpenAIEmbedder(t *testing.T) {
	var gotReq struct {
		Input []string `json:"input"`
		Model string   `json:"model"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/embeddings" || r.Header.Get("Authorization") != "Bearer k" {
			http.Error(w, "bad path or key "+r.URL.Path, 400)
			return
		}
		json.NewDecoder(r.Body).Decode(&gotReq)
		// Answer out of order: the index says which input a vector is for.
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"object":"list","data":[{"object":"embedding","index":1,"embedding":[0,1]},{"object":"embedding","index":0,"embedding":[1,0.5]}],"model":"e"}`))
	}))
	defer srv.Close()
	e, err := NewOpenAIEmbedder(srv.URL+"/v1", "e", "k")
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Embed(context.Background(), []string{"first", "", "third"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gotReq.Input, []string{"first", "third"}) || gotReq.Model != "e" {
		t.Errorf("request %+v", gotReq)
	}
	if !slices.Equal(got[0], []float64{1, 0.5}) || got[1] != nil || !slices.Equal(got[2], []float64{0, 1}) {
		t.Errorf("embeddings %v", got)
	}
}

func TestJudge(t *testing.T) {
	reply := "Score: 7.5/10"
	var prompt string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model    string                     `json:"model"`
			Messages []struct{ Content string } `json:"messages"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		prompt = req.Messages[0].Content
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": reply}}}})
	}))
	defer srv.Close()
	j, err := NewJudge(srv.URL+"/v1", "judge-model", "", "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := j.Score(context.Background(), "Tell a story", "Once upon a time")
	if err != nil || s != 7.5 {
		t.Fatalf("score %v, %v", s, err)
	}
	if !strings.Contains(prompt, "[Request]\nTell a story") || !strings.Contains(prompt, "[Response]\nOnce upon a time") {
		t.Errorf("judge prompt %q", prompt)
	}
	reply = "I cannot rate this."
	j.Attempts = 1
	if _, err := j.Score(context.Background(), "p", "r"); err == nil || !strings.Contains(err.Error(), "no number") {
		t.Errorf("no number: %v", err)
	}
	if _, err := NewJudge(srv.URL, "m", "", "rate it"); err == nil {
		t.Error("template without {{response}}: no error")
	}
}

func TestParseScore(t *testing.T) {
	for in, want := range map[string]float64{"8": 8, " 9.25 ": 9.25, "Rating: 3 out of 10": 3, "-1": -1} {
		if got, err := ParseScore(in); err != nil || got != want {
			t.Errorf("ParseScore(%q) = %v, %v", in, got, err)
		}
	}
}
