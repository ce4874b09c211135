package chat

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// llamaCppConversation is the fixed conversation of llama.cpp's
// tests/test-chat-template.cpp.
var llamaCppConversation = []Message{
	{"system", "You are a helpful assistant"},
	{"user", "Hello"},
	{"assistant", "Hi there"},
	{"user", "Who are you"},
	{"assistant", "   I am an assistant   "},
	{"user", "Another question"},
}

// TestLlamaCppCases renders llama.cpp's conversation with each real template
// of its test file and compares with llama.cpp's recorded output, once with
// the family's own BOS/EOS pieces and once with those the test case names.
func TestLlamaCppCases(t *testing.T) {
	for _, tc := range llamaCppCases {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := Parse(tc.template)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			for _, tok := range [][2]string{{"", ""}, {tc.bos, tc.eos}} {
				got, err := tmpl.Render(llamaCppConversation, true, tok[0], tok[1])
				if err != nil {
					t.Fatalf("Render(bos=%q, eos=%q): %v", tok[0], tok[1], err)
				}
				if got != tc.want {
					t.Errorf("family %s, bos=%q eos=%q:\n got %q\nwant %q", tmpl.Family(), tok[0], tok[1], got, tc.want)
				}
			}
		})
	}
}

// TestDetectHFTemplates checks the family recognised for real templates of
// popular models (llama.cpp's models/templates/).
func TestDetectHFTemplates(t *testing.T) {
	for _, tc := range hfTemplates {
		t.Run(tc.model, func(t *testing.T) {
			tmpl, err := Parse(tc.template)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tmpl.Family() != tc.family {
				t.Errorf("family %q, want %q", tmpl.Family(), tc.family)
			}
		})
	}
}

// formatSingle mirrors llama.cpp's common_chat_format_single: the text a new
// message adds to a rendered history.
func formatSingle(t *testing.T, tmpl *Template, past []Message, m Message, addAss bool) string {
	t.Helper()
	var pastText string
	if len(past) > 0 {
		var err error
		if pastText, err = tmpl.Render(past, false, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	all, err := tmpl.Render(append(slices.Clone(past), m), addAss, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(all, pastText) {
		t.Fatalf("rendering with one more message changed the history: %q vs %q", pastText, all)
	}
	prefix := ""
	if addAss && strings.HasSuffix(pastText, "\n") {
		prefix = "\n"
	}
	return prefix + all[len(pastText):]
}

// TestFormatSingle ports llama.cpp's llama_chat_format_single assertions
// (tests/test-chat-template.cpp at c392e50), which select families by name.
func TestFormatSingle(t *testing.T) {
	sys := Message{"system", "You are a helpful assistant"}
	sysCases := []struct{ name, want string }{
		{"chatml", "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n"},
		{"mistral-v1", " [INST] You are a helpful assistant\n\n"},
		{"mistral-v3", "[INST] You are a helpful assistant\n\n"},
		{"mistral-v3-tekken", "[INST]You are a helpful assistant\n\n"},
		{"mistral-v7", "[SYSTEM_PROMPT] You are a helpful assistant[/SYSTEM_PROMPT]"},
		{"llama2", "[INST] You are a helpful assistant\n"},
		{"llama2-sys", "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\n"},
		{"mistral", "[INST] You are a helpful assistant\n"},
		{"gemma", ""},
		{"llama3", "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|>"},
		{"gigachat", "<s>You are a helpful assistant<|message_sep|>"},
	}
	for _, tc := range sysCases {
		tmpl, err := Parse(tc.name)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := formatSingle(t, tmpl, nil, sys, false); got != tc.want {
			t.Errorf("system message, %s: got %q, want %q", tc.name, got, tc.want)
		}
	}

	past := []Message{sys, {"user", "Hello"}, {"assistant", "I am assistant"}}
	next := Message{"user", "How are you"}
	singleCases := []struct{ name, want string }{
		{"chatml", "\n<|im_start|>user\nHow are you<|im_end|>\n<|im_start|>assistant\n"},
		{"mistral-v1", " [INST] How are you [/INST]"},
		{"mistral-v3", "[INST] How are you[/INST]"},
		{"mistral-v3-tekken", "[INST]How are you[/INST]"},
		{"mistral-v7", "[INST] How are you[/INST]"},
		{"llama2", "[INST] How are you [/INST]"},
		{"mistral", "[INST] How are you [/INST]"},
		{"gemma", "\n<start_of_turn>user\nHow are you<end_of_turn>\n<start_of_turn>model\n"},
		{"llama3", "<|start_header_id|>user<|end_header_id|>\n\nHow are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
		{"gigachat", "user<|role_sep|>How are you<|message_sep|>available functions<|role_sep|>[]<|message_sep|>assistant<|role_sep|>"},
	}
	for _, tc := range singleCases {
		tmpl, err := FamilyByName(tc.name)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := formatSingle(t, tmpl, past, next, true); got != tc.want {
			t.Errorf("user message, %s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// zephyrTemplate is HuggingFaceH4/zephyr-7b-beta's chat template (also
// TinyLlama-1.1B-Chat's).
const zephyrTemplate = "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}"

// TestZephyrHF renders Zephyr-7B-beta's template. The expected texts are
// those a Jinja engine produces (the "HuggingFace H4 Zephyr-7B-Beta" cases
// of the Swift Jinja port's Tests/JinjaTests/IntegrationTests.swift, seen in
// the wangqi/Jinja fork at 80d3567).
func TestZephyrHF(t *testing.T) {
	tmpl, err := Parse(zephyrTemplate)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.Family() != "zephyr" {
		t.Fatalf("family %q, want zephyr", tmpl.Family())
	}
	pirate := Message{"system", "You are a friendly chatbot who always responds in the style of a pirate"}
	cases := []struct {
		name   string
		msgs   []Message
		addGen bool
		want   string
	}{
		{
			name: "no generation prompt",
			msgs: []Message{pirate,
				{"user", "Hello, how are you?"},
				{"assistant", "I'm doing great. How can I help you today?"},
				{"user", "I'd like to show off how chat templating works!"}},
			want: "<|system|>\nYou are a friendly chatbot who always responds in the style of a pirate</s>\n<|user|>\nHello, how are you?</s>\n<|assistant|>\nI'm doing great. How can I help you today?</s>\n<|user|>\nI'd like to show off how chat templating works!</s>\n",
		},
		{
			name:   "generation prompt",
			msgs:   []Message{pirate, {"user", "How many helicopters can a human eat in one sitting?"}},
			addGen: true,
			want:   "<|system|>\nYou are a friendly chatbot who always responds in the style of a pirate</s>\n<|user|>\nHow many helicopters can a human eat in one sitting?</s>\n<|assistant|>\n",
		},
	}
	for _, tc := range cases {
		got, err := tmpl.Render(tc.msgs, tc.addGen, "<s>", "</s>")
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// TestHandComputed covers cases worked out by hand from the formats'
// published descriptions: the generation prompt switch and BOS/EOS pieces
// other than the defaults.
func TestHandComputed(t *testing.T) {
	conv := []Message{{"system", "S"}, {"user", "U1"}, {"assistant", "A1"}, {"user", "U2"}}
	cases := []struct {
		family   string
		addGen   bool
		bos, eos string
		want     string
	}{
		{"chatml", false, "", "", "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nU2<|im_end|>\n"},
		{"chatml", true, "", "", "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nU2<|im_end|>\n<|im_start|>assistant\n"},
		{"llama3", true, "", "", "<|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU1<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nA1<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU2<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
		{"llama2-sys", true, "", "", "[INST] <<SYS>>\nS\n<</SYS>>\n\nU1 [/INST]A1</s>[INST] U2 [/INST]"},
		{"llama2-sys-bos", false, "<B>", "<E>", "[INST] <<SYS>>\nS\n<</SYS>>\n\nU1 [/INST]A1<E><B>[INST] U2 [/INST]"},
		{"mistral-v7", true, "", "<E>", "[SYSTEM_PROMPT] S[/SYSTEM_PROMPT][INST] U1[/INST] A1<E>[INST] U2[/INST]"},
		{"zephyr", true, "", "", "<|system|>\nS<|endoftext|>\n<|user|>\nU1<|endoftext|>\n<|assistant|>\nA1<|endoftext|>\n<|user|>\nU2<|endoftext|>\n<|assistant|>\n"},
		{"gemma", false, "", "", "<start_of_turn>user\nS\n\nU1<end_of_turn>\n<start_of_turn>model\nA1<end_of_turn>\n<start_of_turn>user\nU2<end_of_turn>\n"},
		{"phi3", true, "", "", "<|system|>\nS<|end|>\n<|user|>\nU1<|end|>\n<|assistant|>\nA1<|end|>\n<|user|>\nU2<|end|>\n<|assistant|>\n"},
	}
	for _, tc := range cases {
		tmpl, err := FamilyByName(tc.family)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tmpl.Render(conv, tc.addGen, tc.bos, tc.eos)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s addGen=%v:\n got %q\nwant %q", tc.family, tc.addGen, got, tc.want)
		}
	}
}

func TestParseUnknown(t *testing.T) {
	for _, src := range []string{
		"INVALID TEMPLATE", // llama.cpp's own negative case
		"",
		"  \n",
		"{% for message in messages %}{{ message['content'] }}{% endfor %}",
	} {
		tmpl, err := Parse(src)
		if err == nil {
			t.Errorf("Parse(%q) = family %s, want an error", src, tmpl.Family())
			continue
		}
		if !errors.Is(err, ErrUnknownTemplate) {
			t.Errorf("Parse(%q) error %v does not wrap ErrUnknownTemplate", src, err)
		}
		for _, hint := range []string{"--raw", "--chat-template", "chatml"} {
			if !strings.Contains(err.Error(), hint) {
				t.Errorf("Parse(%q) error %q does not mention %s", src, err, hint)
			}
		}
	}
	if _, err := FamilyByName("nonesuch"); !errors.Is(err, ErrUnknownTemplate) || !strings.Contains(err.Error(), "llama3") {
		t.Errorf("FamilyByName(nonesuch) = %v, want ErrUnknownTemplate listing the families", err)
	}
}

func TestRenderErrors(t *testing.T) {
	tmpl, err := FamilyByName("chatml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmpl.Render(nil, true, "", ""); !errors.Is(err, ErrNoMessages) {
		t.Errorf("empty conversation: err = %v, want ErrNoMessages", err)
	}
	cases := []struct {
		role string
		idx  string
	}{{"tool", "message 1"}, {"", "message 1"}, {"User", "message 1"}}
	for _, tc := range cases {
		_, err := tmpl.Render([]Message{{"user", "hi"}, {tc.role, "x"}}, true, "", "")
		if !errors.Is(err, ErrUnknownRole) || !strings.Contains(err.Error(), tc.idx) {
			t.Errorf("role %q: err = %v, want ErrUnknownRole naming %s", tc.role, err, tc.idx)
		}
	}
}

// TestEveryFamily renders every family with every role, by name and through
// Parse of the name, so none panics or fails on a well-formed conversation.
func TestEveryFamily(t *testing.T) {
	names := Families()
	if len(names) != 33 || !slices.IsSorted(names) {
		t.Fatalf("Families() = %d names (sorted %v), want llama.cpp's 33, sorted", len(names), slices.IsSorted(names))
	}
	for _, want := range []string{"chatml", "llama3", "llama2", "llama2-sys", "mistral-v1", "mistral-v3", "mistral-v3-tekken", "mistral-v7", "zephyr", "gemma", "phi3"} {
		if !slices.Contains(names, want) {
			t.Errorf("Families() lacks %s", want)
		}
	}
	for _, name := range names {
		a, err := FamilyByName(name)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Parse(name)
		if err != nil {
			t.Fatal(err)
		}
		if a.Family() != name || b.Family() != name {
			t.Errorf("%s: FamilyByName gives %s, Parse gives %s", name, a.Family(), b.Family())
		}
		out, err := a.Render(llamaCppConversation, true, "", "")
		if err != nil || !strings.Contains(out, "Another question") {
			t.Errorf("%s: Render = %q, %v", name, out, err)
		}
		// A conversation without a system message, and one that ends with an
		// assistant turn.
		if _, err := a.Render([]Message{{"assistant", "a"}}, false, "", ""); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	m, err := FamilyByName("mistral")
	if err != nil || m.Family() != "llama2" {
		t.Errorf("FamilyByName(mistral) = %v, %v; want llama2", m, err)
	}
}

func BenchmarkRenderChatML(b *testing.B) {
	tmpl, err := FamilyByName("chatml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Render(llamaCppConversation, true, "", ""); err != nil {
			b.Fatal(err)
		}
	}
}
