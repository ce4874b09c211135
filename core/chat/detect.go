package chat

import "strings"

// detect recognises a template family from Jinja source by signature strings.
// The rules and their order are those of llama.cpp's
// llm_chat_detect_template (src/llama-chat.cpp, commit c392e50), plus one
// rule of ours: Hugging Face's Zephyr template (zephyr-7b-beta, TinyLlama
// chat), which writes eos_token after <|user|>/<|assistant|> turns, is
// recognised as "zephyr" (llama.cpp takes it for GLM-Edge). It returns nil
// when no rule matches.
func detect(src string) *family {
	has := func(s string) bool { return strings.Contains(src, s) }
	switch {
	case has("<|im_start|>"):
		if has("<|im_sep|>") {
			return byName("phi4")
		}
		return byName("chatml")
	case strings.HasPrefix(src, "mistral") || has("[INST]"):
		switch {
		case has("[SYSTEM_PROMPT]"):
			return byName("mistral-v7")
		case has("' [INST] ' + system_message") || has("[AVAILABLE_TOOLS]"):
			// The official Mistral v1, v3 and v3-tekken templates.
			if has(" [INST]") {
				return byName("mistral-v1")
			}
			if has(`"[INST]"`) {
				return byName("mistral-v3-tekken")
			}
			return byName("mistral-v3")
		case has("content.strip()"):
			return byName("llama2-sys-strip")
		case has("bos_token + '[INST]"):
			return byName("llama2-sys-bos")
		case has("<<SYS>>"):
			return byName("llama2-sys")
		default:
			return byName("llama2")
		}
	case has("<|assistant|>") && has("<|end|>"):
		return byName("phi3")
	case has("<|assistant|>") && has("<|user|>") && has("eos_token") && !has("</s>"):
		// Our addition: Hugging Face's Zephyr template.
		return byName("zephyr")
	case has("<|assistant|>") && has("<|user|>"):
		if has("</s>") {
			return byName("falcon3")
		}
		return byName("glmedge")
	case has("<|user|>") && has("<|endoftext|>"):
		return byName("zephyr")
	case has("bos_token + message['role']"):
		return byName("monarch")
	case has("<start_of_turn>"):
		return byName("gemma")
	case has(`'\n\nAssistant: ' + eos_token`):
		return byName("orion")
	case has("GPT4 Correct "):
		return byName("openchat")
	case has("USER: ") && has("ASSISTANT: "):
		if has("SYSTEM: ") {
			return byName("vicuna-orca")
		}
		return byName("vicuna")
	case has("### Instruction:") && has("<|EOT|>"):
		return byName("deepseek")
	case has("<|START_OF_TURN_TOKEN|>") && has("<|USER_TOKEN|>"):
		return byName("command-r")
	case has("<|start_header_id|>") && has("<|end_header_id|>"):
		return byName("llama3")
	case has("[gMASK]sop"):
		return byName("chatglm3")
	case has("[gMASK]<sop>"):
		return byName("chatglm4")
	case has("<用户>"):
		return byName("minicpm")
	case has("'Assistant: ' + message['content'] + eos_token"):
		return byName("deepseek2")
	case has("<｜Assistant｜>") && has("<｜User｜>") && has("<｜end▁of▁sentence｜>"):
		return byName("deepseek3")
	case has("[|system|]") && has("[|assistant|]") && has("[|endofturn|]"):
		return byName("exaone3")
	case has("rwkv-world"):
		return byName("rwkv-world")
	case has("<|start_of_role|>"):
		return byName("granite")
	case has("message['role'] + additional_special_tokens[0] + message['content'] + additional_special_tokens[1]"):
		return byName("gigachat")
	case has("<|role_start|>"):
		return byName("megrez")
	}
	return nil
}

// byName returns the family called name (or the alias "mistral"), or nil.
func byName(name string) *family {
	if name == "mistral" {
		name = "llama2"
	}
	for i := range families {
		if families[i].name == name {
			return &families[i]
		}
	}
	return nil
}
