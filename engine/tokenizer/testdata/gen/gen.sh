#!/bin/sh
# Regenerates ../llamacpp/*.json.gz from llama.cpp (see refdump.cpp).
# Usage: LLAMA=/path/to/llama.cpp (built) SHARED=/path/to/shared/testdata ./gen.sh
set -eu
: "${LLAMA:?set LLAMA to a built llama.cpp checkout}"
: "${SHARED:?set SHARED to the shared testdata folder}"
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../llamacpp"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
g++ -O1 -std=c++17 "$here/refdump.cpp" -I"$LLAMA/include" -I"$LLAMA/ggml/include" \
    -L"$LLAMA/build/bin" -lllama -lggml -lggml-base -Wl,-rpath,"$LLAMA/build/bin" -o "$tmp/refdump"
(cd "$here" && go run geninputs.go) > "$tmp/stress.inp"
cat "$SHARED/tokenizer/ggml-vocab-llama-spm.gguf.inp" "$tmp/stress.inp" > "$tmp/all.inp"
mkdir -p "$out"
run() { # name vocab-path pre
    "$tmp/refdump" "$2" "$3" "$tmp/all.inp" "$tmp/$1.json"
    gzip -9n -c "$tmp/$1.json" > "$out/$1.json.gz"
}
for v in llama-spm baichuan gpt-2 falcon mpt refact deepseek-llm gpt-neox bert-bge; do
    run "$v" "$SHARED/tokenizer/ggml-vocab-$v.gguf" -
done
run stories260K "$SHARED/models/stories260K.gguf" -
for p in default llama-bpe dbrx qwen2 stablelm2 deepseek-coder deepseek-llm falcon starcoder smollm poro-chat viking chatglm-bpe; do
    run "gpt-2+$p" "$SHARED/tokenizer/ggml-vocab-gpt-2.gguf" "$p"
done
