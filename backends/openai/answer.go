package openai

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/baco-go/baco/backends/remote"
)

// answer is the part of a /v1/completions answer the backend reads, in
// the two shapes servers use: OpenAI's legacy logprobs (tokens and one
// map per position of alternative → log-probability, the alternatives
// named by text, or by "token_id:N" with vLLM's
// return_tokens_as_token_ids), and llama.cpp's (a "content" list whose
// entries carry token ids).
type answer struct {
	Choices []struct {
		Logprobs *struct {
			TopLogprobs []map[string]*float64 `json:"top_logprobs"`
			Content     []struct {
				TopLogprobs []struct {
					ID      *int32   `json:"id"`
					Token   string   `json:"token"`
					Logprob *float64 `json:"logprob"`
				} `json:"top_logprobs"`
			} `json:"content"`
		} `json:"logprobs"`
	} `json:"choices"`
}

// idPrefix is how vLLM names a token with return_tokens_as_token_ids.
const idPrefix = "token_id:"

// keyKind says how an answer named its candidates.
type keyKind int

const (
	keysIDs  keyKind = iota // token ids (llama.cpp, or vLLM's token_id:N)
	keysText                // texts, mapped back through the vocabulary
)

// String names the kind for logs ("ids" or "text").
func (k keyKind) String() string {
	if k == keysText {
		return "text"
	}
	return "ids"
}

// parseAnswer returns the candidates of the first generated position;
// texts holds each candidate's text where the server gives both an id and
// a text (llama.cpp), else nil.
// byText maps a text key to an id (nil: text keys are an error); a text
// that is ambiguous (several ids read the same) sets collapsed, since the
// server's JSON object could hold only one of them.
func parseAnswer(raw []byte, byText func(string) (id int32, ok, ambiguous bool)) (cands []remote.Cand, texts []string, kind keyKind, collapsed bool, err error) {
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, nil, 0, false, fmt.Errorf("malformed JSON answer: %w", err)
	}
	if len(a.Choices) == 0 {
		return nil, nil, 0, false, fmt.Errorf("answer has no choices")
	}
	lp := a.Choices[0].Logprobs
	if lp == nil {
		return nil, nil, 0, false, fmt.Errorf("answer has no logprobs (does this server support logprobs on /v1/completions?)")
	}
	if len(lp.Content) > 0 {
		for i, c := range lp.Content[0].TopLogprobs {
			if c.ID == nil || c.Logprob == nil {
				return nil, nil, 0, false, fmt.Errorf("logprobs.content[0].top_logprobs[%d] lacks an id or a logprob", i)
			}
			cands = append(cands, remote.Cand{ID: *c.ID, LogProb: *c.Logprob})
			texts = append(texts, c.Token)
		}
		return cands, texts, keysIDs, false, nil
	}
	if len(lp.TopLogprobs) == 0 || lp.TopLogprobs[0] == nil {
		return nil, nil, 0, false, fmt.Errorf("answer has no top_logprobs for the generated token")
	}
	top := lp.TopLogprobs[0]
	kind = keysIDs
	for k := range top {
		if !strings.HasPrefix(k, idPrefix) {
			kind = keysText
			break
		}
	}
	for k, v := range top {
		if v == nil {
			return nil, nil, 0, false, fmt.Errorf("top_logprobs[0][%q] is null", k)
		}
		if kind == keysIDs {
			id, err := strconv.ParseInt(strings.TrimPrefix(k, idPrefix), 10, 32)
			if err != nil {
				return nil, nil, 0, false, fmt.Errorf("top_logprobs[0]: key %q is not %sN", k, idPrefix)
			}
			cands = append(cands, remote.Cand{ID: int32(id), LogProb: *v})
			continue
		}
		if byText == nil {
			return nil, nil, 0, false, fmt.Errorf("the server names candidates by text (%q) and no vocabulary is loaded to map them to ids", k)
		}
		id, ok, amb := byText(k)
		switch {
		case !ok && strings.ContainsRune(k, '\uFFFD'):
			// Bytes that are not UTF-8 (a lone byte token) come back
			// replaced; several ids may hide behind it.
			collapsed = true
			continue
		case !ok:
			return nil, nil, 0, false, fmt.Errorf("top_logprobs[0]: candidate %q is no token of the vocabulary", k)
		}
		collapsed = collapsed || amb
		cands = append(cands, remote.Cand{ID: id, LogProb: *v})
	}
	return cands, nil, kind, collapsed, nil
}
