package chat

import "strings"

// family is one built-in chat format: its name, the BOS/EOS pieces it uses
// when the caller gives none, and its renderer. Each renderer is a port of
// the matching branch of llama.cpp's llm_chat_apply_template
// (src/llama-chat.cpp, commit c392e50), with the literal "<s>"/"</s>" there
// replaced by the bos/eos arguments. Messages reaching a renderer have been
// checked to carry a system, user or assistant role.
type family struct {
	name     string
	bos, eos string
	render   func(b *strings.Builder, msgs []Message, addAss bool, bos, eos string)
}

// families is the table of built-in families; it is never modified.
var families = []family{
	{name: "chatml", render: renderChatML},
	{name: "llama2", bos: "<s>", eos: "</s>", render: llama2(false, false, false)},
	{name: "llama2-sys", bos: "<s>", eos: "</s>", render: llama2(true, false, false)},
	{name: "llama2-sys-bos", bos: "<s>", eos: "</s>", render: llama2(true, true, false)},
	{name: "llama2-sys-strip", bos: "<s>", eos: "</s>", render: llama2(true, false, true)},
	{name: "mistral-v1", eos: "</s>", render: mistral(" ", " ", false)},
	{name: "mistral-v3", eos: "</s>", render: mistral("", " ", true)},
	{name: "mistral-v3-tekken", eos: "</s>", render: mistral("", "", false)},
	{name: "mistral-v7", eos: "</s>", render: renderMistralV7},
	{name: "phi3", render: renderPhi3},
	{name: "phi4", render: renderPhi4},
	{name: "falcon3", render: renderFalcon3},
	{name: "zephyr", eos: "<|endoftext|>", render: renderZephyr},
	{name: "monarch", bos: "<s>", eos: "</s>", render: renderMonarch},
	{name: "gemma", render: renderGemma},
	{name: "orion", eos: "</s>", render: renderOrion},
	{name: "openchat", render: renderOpenChat},
	{name: "vicuna", eos: "</s>", render: vicuna(false)},
	{name: "vicuna-orca", eos: "</s>", render: vicuna(true)},
	{name: "deepseek", render: renderDeepSeek},
	{name: "deepseek2", eos: "<｜end▁of▁sentence｜>", render: renderDeepSeek2},
	{name: "deepseek3", eos: "<｜end▁of▁sentence｜>", render: renderDeepSeek3},
	{name: "command-r", render: renderCommandR},
	{name: "llama3", render: renderLlama3},
	{name: "chatglm3", render: renderChatGLM3},
	{name: "chatglm4", render: renderChatGLM4},
	{name: "glmedge", render: renderGLMEdge},
	{name: "minicpm", render: renderMiniCPM},
	{name: "exaone3", render: renderExaone3},
	{name: "rwkv-world", render: renderRWKVWorld},
	{name: "granite", render: renderGranite},
	{name: "gigachat", bos: "<s>", render: renderGigaChat},
	{name: "megrez", render: renderMegrez},
}

// trim removes the bytes C's isspace accepts from both ends of s, as
// llama.cpp's trim does.
func trim(s string) string { return strings.Trim(s, " \t\n\v\f\r") }

func write(b *strings.Builder, parts ...string) {
	for _, p := range parts {
		b.WriteString(p)
	}
}

func renderChatML(b *strings.Builder, msgs []Message, addAss bool, _, _ string) {
	for _, m := range msgs {
		write(b, "<|im_start|>", m.Role, "\n", m.Content, "<|im_end|>\n")
	}
	if addAss {
		b.WriteString("<|im_start|>assistant\n")
	}
}

func renderMistralV7(b *strings.Builder, msgs []Message, _ bool, _, eos string) {
	for _, m := range msgs {
		switch m.Role {
		case RoleSystem:
			write(b, "[SYSTEM_PROMPT] ", m.Content, "[/SYSTEM_PROMPT]")
		case RoleUser:
			write(b, "[INST] ", m.Content, "[/INST]")
		default:
			write(b, " ", m.Content, eos)
		}
	}
}

// mistral renders the official Mistral v1, v3 and v3-tekken formats, which
// differ only in the spaces around [INST] and in trimming replies.
func mistral(leading, trailing string, trimAssistant bool) func(*strings.Builder, []Message, bool, string, string) {
	return func(b *strings.Builder, msgs []Message, _ bool, _, eos string) {
		inTurn := false
		for _, m := range msgs {
			if !inTurn {
				write(b, leading, "[INST]", trailing)
				inTurn = true
			}
			switch m.Role {
			case RoleSystem:
				write(b, m.Content, "\n\n")
			case RoleUser:
				write(b, m.Content, leading, "[/INST]")
			default:
				c := m.Content
				if trimAssistant {
					c = trim(c)
				}
				write(b, trailing, c, eos)
				inTurn = false
			}
		}
	}
}

// llama2 renders Llama 2 chat and its variants: with <<SYS>> system blocks,
// with BOS before each later [INST], with trimmed messages.
func llama2(system, bosInHistory, strip bool) func(*strings.Builder, []Message, bool, string, string) {
	return func(b *strings.Builder, msgs []Message, _ bool, bos, eos string) {
		inTurn := true // the first [INST] goes without BOS
		b.WriteString("[INST] ")
		for _, m := range msgs {
			c := m.Content
			if strip {
				c = trim(c)
			}
			if !inTurn {
				inTurn = true
				if bosInHistory {
					b.WriteString(bos)
				}
				b.WriteString("[INST] ")
			}
			switch m.Role {
			case RoleSystem:
				if system {
					write(b, "<<SYS>>\n", c, "\n<</SYS>>\n\n")
				} else {
					// No system block in this format: the text joins the
					// first user message.
					write(b, c, "\n")
				}
			case RoleUser:
				write(b, c, " [/INST]")
			default:
				write(b, c, eos)
				inTurn = false
			}
		}
	}
}

func renderPhi3(b *strings.Builder, msgs []Message, addAss bool, _, _ string) {
	for _, m := range msgs {
		write(b, "<|", m.Role, "|>\n", m.Content, "<|end|>\n")
	}
	if addAss {
		b.WriteString("<|assistant|>\n")
	}
}

func renderPhi4(b *strings.Builder, msgs []Message, addAss bool, _, _ string) {
	for _, m := range msgs {
		write(b, "<|im_start|>", m.Role, "<|im_sep|>", m.Content, "<|im_end|>")
	}
	if addAss {
		b.WriteString("<|im_start|>assistant<|im_sep|>")
	}
}

func renderFalcon3(b *strings.Builder, msgs []Message, addAss bool, _, _ string) {
	for _, m := range msgs {
		write(b, "<|", m.Role, "|>\n", m.Content, "\n")
	}
	if addAss {
		b.WriteString("<|assistant|>\n")
	}
}

func renderZephyr(b *strings.Builder, msgs []Message, addAss bool, _, eos string) {
	for _, m := range msgs {
		write(b, "<|", m.Role, "|>\n", m.Content, eos, "\n")
	}
	if addAss {
		b.WriteString("<|assistant|>\n")
	}
}

func renderMonarch(b *strings.Builder, msgs []Message, addAss bool, bos, eos string) {
	for i, m := range msgs {
		if i > 0 { // no BOS before the first message
			b.WriteString(bos)
		}
		write(b, m.Role, "\n", m.Content, eos, "\n")
	}
	if addAss {
		write(b, bos, "assistant\n")
	}
}

func renderGemma(b *strings.Builder, msgs []Message, addAss bool, _, _ string) {
	// Gemma has no system turn: the system text opens the next user turn.
	system := ""
	for _, m := range msgs {
		if m.Role == RoleSystem {
			system = trim(m.Content)
			continue
		}
		role := m.Role
		if role == RoleAssistant {
			role = "model"
		}
		write(b, "<start_of_turn>", role, "\n")
		if system != "" && role != "model" {
			write(b, system, "\n\n")
			system = ""
		}
		write(b, trim(m.Content), "<end_of_turn>\n")
	}
	if addAss {
		b.WriteString("<start_of_turn>model\n")
	}
}

func renderOrion(b *strings.Builder, msgs []Message, _ bool, _, eos string) {
	system := ""
	for _, m := range msgs {
		switch m.Role {
		case RoleSystem:
			system = m.Content
		case RoleUser:
			b.WriteString("Human: ")
			if system != "" {
				write(b, system, "\n\n")
				system = ""
			}
			write(b, m.Content, "\n\nAssistant: ", eos)
		default:
			write(b, m.Content, eos)
		}
	}
}

func renderOpenChat(b *strings.Builder, msgs []Message, addAss bool, _, _ string) {
	for _, m := range msgs {
		if m.Role == RoleSystem {
			write(b, m.Content, "<|end_of_turn|>")
			continue
		}
		role := strings.ToUpper(m.Role[:1]) + m.Role[1:]
		write(b, "GPT4 Correct ", role, ": ", m.Content, "<|end_of_turn|>")
	}
	if addAss {
		b.WriteString("GPT4 Correct Assistant:")
	}
}

func vicuna(orca bool) func(*strings.Builder, []Message, bool, string, string) {
	return func(b *strings.Builder, msgs []Message, addAss bool, _, eos string) {
		for _, m := range msgs {
			switch m.Role {
			case RoleSystem:
				if orca {
					write(b, "SYSTEM: ", m.Content, "\n")
				} else {
					write(b, m.Content, "\n\n")
				}
			case RoleUser:
				write(b, "USER: ", m.Content, "\n")
			default:
				write(b, "ASSISTANT: ", m.Content, eos, "\n")
			}
		}
		if addAss {
			b.WriteString("ASSISTANT:")
		}
	}
}

func renderDeepSeek(b *strings.Builder, msgs []Message, addAss bool, _, _ string) {
	for _, m := range msgs {
		switch m.Role {
		case RoleSystem:
			b.WriteString(m.Content)
		case RoleUser:
			write(b, "### Instruction:\n", m.Content, "\n")
		default:
			write(b, "### Response:\n", m.Content, "\n<|EOT|>\n")
		}
	}
	if addAss {
		b.WriteString("### Response:\n")
	}
}

func renderDeepSeek2(b *strings.Builder, msgs []Message, addAss bool, _, eos string) {
	for _, m := range msgs {
		switch m.Role {
		case RoleSystem:
			write(b, m.Content, "\n\n")
		case RoleUser:
			write(b, "User: ", m.Content, "\n\n")
		default:
			write(b, "Assistant: ", m.Content, eos)
		}
	}
	if addAss {
		b.WriteString("Assistant:")
	}
}

func renderDeepSeek3(b *strings.Builder, msgs []Message, addAss bool, _, eos string) {
	for _, m := range msgs {
		switch m.Role {
		case RoleSystem:
			write(b, m.Content, "\n\n")
		case RoleUser:
			write(b, "<｜User｜>", m.Content)
		default:
			write(b, "<｜Assistant｜>", m.Content, eos)
		}
	}
	if addAss {
		b.WriteString("<｜Assistant｜>")
	}
}

func renderCommandR(b *strings.Builder, msgs []Message, addAss bool, _, _ string) {
	for _, m := range msgs {
		tok := "<|CHATBOT_TOKEN|>"
		switch m.Role {
		case RoleSystem:
			tok = "<|SYSTEM_TOKEN|>"
		case RoleUser:
			tok = "<|USER_TOKEN|>"
		}
		write(b, "<|START_OF_TURN_TOKEN|>", tok, trim(m.Content), "<|END_OF_TURN_TOKEN|>")
	}
	if addAss {
		b.WriteString("<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>")
	}
}

func renderLlama3(b *strings.Builder, msgs []Message, addAss bool, _, _ string) {
	for _, m := range msgs {
		write(b, "<|start_header_id|>", m.Role, "<|end_header_id|>\n\n", trim(m.Content), "<|eot_id|>")
	}
	if addAss {
		b.WriteString("<|start_header_id|>assistant<|end_header_id|>\n\n")
	}
}

func renderChatGLM3(b *strings.Builder, msgs []Message, addAss bool, _, _ string) {
	b.WriteString("[gMASK]sop")
	for _, m := range msgs {
		write(b, "<|", m.Role, "|>\n ", m.Content)
	}
	if addAss {
		b.WriteString("<|assistant|>")
	}
}

func renderChatGLM4(b *strings.Builder, msgs []Message, addAss bool, _, _ string) {
	b.WriteString("[gMASK]<sop>")
	renderGLMEdge(b, msgs, addAss, "", "")
}

func renderGLMEdge(b *strings.Builder, msgs []Message, addAss bool, _, _ string) {
	for _, m := range msgs {
		write(b, "<|", m.Role, "|>\n", m.Content)
	}
	if addAss {
		b.WriteString("<|assistant|>")
	}
}

func renderMiniCPM(b *strings.Builder, msgs []Message, _ bool, _, _ string) {
	for _, m := range msgs {
		if m.Role == RoleUser {
			write(b, "<用户>", trim(m.Content), "<AI>")
		} else {
			b.WriteString(trim(m.Content))
		}
	}
}

func renderExaone3(b *strings.Builder, msgs []Message, addAss bool, _, _ string) {
	for _, m := range msgs {
		switch m.Role {
		case RoleSystem:
			write(b, "[|system|]", trim(m.Content), "[|endofturn|]\n")
		case RoleUser:
			write(b, "[|user|]", trim(m.Content), "\n")
		default:
			write(b, "[|assistant|]", trim(m.Content), "[|endofturn|]\n")
		}
	}
	if addAss {
		b.WriteString("[|assistant|]")
	}
}

func renderRWKVWorld(b *strings.Builder, msgs []Message, _ bool, _, _ string) {
	// The model must use "\n\n" as its end-of-turn marker.
	for _, m := range msgs {
		if m.Role == RoleUser {
			write(b, "User: ", m.Content, "\n\nAssistant:")
		} else {
			write(b, m.Content, "\n\n")
		}
	}
}

func renderGranite(b *strings.Builder, msgs []Message, addAss bool, _, _ string) {
	for _, m := range msgs {
		write(b, "<|start_of_role|>", m.Role, "<|end_of_role|>", m.Content, "<|end_of_text|>\n")
	}
	if addAss {
		b.WriteString("<|start_of_role|>assistant<|end_of_role|>\n")
	}
}

func renderGigaChat(b *strings.Builder, msgs []Message, addAss bool, bos, _ string) {
	b.WriteString(bos)
	rest := msgs
	if msgs[0].Role == RoleSystem {
		write(b, msgs[0].Content, "<|message_sep|>")
		rest = msgs[1:]
	}
	for _, m := range rest {
		switch m.Role {
		case RoleUser:
			write(b, "user<|role_sep|>", m.Content, "<|message_sep|>",
				"available functions<|role_sep|>[]<|message_sep|>")
		case RoleAssistant:
			write(b, "assistant<|role_sep|>", m.Content, "<|message_sep|>")
		}
	}
	if addAss {
		b.WriteString("assistant<|role_sep|>")
	}
}

func renderMegrez(b *strings.Builder, msgs []Message, addAss bool, _, _ string) {
	for _, m := range msgs {
		write(b, "<|role_start|>", m.Role, "<|role_end|>", m.Content, "<|turn_end|>")
	}
	if addAss {
		b.WriteString("<|role_start|>assistant<|role_end|>")
	}
}
