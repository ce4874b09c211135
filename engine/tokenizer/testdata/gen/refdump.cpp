// refdump records llama.cpp's tokenizer behaviour for one vocabulary as JSON:
// llama_tokenize ids for each input in three modes, llama_detokenize of
// those ids, and digests of token_to_piece and the control/EOG sets.
// The Go tests in engine/tokenizer compare against these files.
//
// Build against a llama.cpp checkout (commit c392e50 for the committed
// files):
//
//   g++ -O1 -std=c++17 refdump.cpp -I$LLAMA/include -I$LLAMA/ggml/include \
//       -L$LLAMA/build/bin -lllama -lggml -lggml-base -Wl,-rpath,$LLAMA/build/bin -o refdump
//
// Usage: refdump VOCAB.gguf PRE|- INPUTS OUT.json
// PRE, when not "-", replaces tokenizer.ggml.pre in a temporary copy of the
// vocabulary. INPUTS holds the test strings in llama.cpp's .inp format.
#include "llama.h"
#include "gguf.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

// sha256 (FIPS 180-4), small and self-contained.
struct Sha256 {
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    uint8_t buf[64]; size_t n = 0; uint64_t len = 0;
    static uint32_t r(uint32_t x, int k) { return (x >> k) | (x << (32 - k)); }
    void block(const uint8_t *p) {
        static const uint32_t K[64] = {
            0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,0x923f82a4,0xab1c5ed5,0xd807aa98,0x12835b01,0x243185be,0x550c7dc3,0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,
            0xe49b69c1,0xefbe4786,0x0fc19dc6,0x240ca1cc,0x2de92c6f,0x4a7484aa,0x5cb0a9dc,0x76f988da,0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,0xc6e00bf3,0xd5a79147,0x06ca6351,0x14292967,
            0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,0x650a7354,0x766a0abb,0x81c2c92e,0x92722c85,0xa2bfe8a1,0xa81a664b,0xc24b8b70,0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,
            0x19a4c116,0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,0x5b9cca4f,0x682e6ff3,0x748f82ee,0x78a5636f,0x84c87814,0x8cc70208,0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2};
        uint32_t w[64];
        for (int i = 0; i < 16; i++) w[i] = (uint32_t)p[4*i] << 24 | (uint32_t)p[4*i+1] << 16 | (uint32_t)p[4*i+2] << 8 | p[4*i+3];
        for (int i = 16; i < 64; i++) {
            uint32_t s0 = r(w[i-15], 7) ^ r(w[i-15], 18) ^ (w[i-15] >> 3);
            uint32_t s1 = r(w[i-2], 17) ^ r(w[i-2], 19) ^ (w[i-2] >> 10);
            w[i] = w[i-16] + s0 + w[i-7] + s1;
        }
        uint32_t a=h[0],b=h[1],c=h[2],d=h[3],e=h[4],f=h[5],g=h[6],hh=h[7];
        for (int i = 0; i < 64; i++) {
            uint32_t t1 = hh + (r(e,6)^r(e,11)^r(e,25)) + ((e&f)^(~e&g)) + K[i] + w[i];
            uint32_t t2 = (r(a,2)^r(a,13)^r(a,22)) + ((a&b)^(a&c)^(b&c));
            hh=g; g=f; f=e; e=d+t1; d=c; c=b; b=a; a=t1+t2;
        }
        h[0]+=a; h[1]+=b; h[2]+=c; h[3]+=d; h[4]+=e; h[5]+=f; h[6]+=g; h[7]+=hh;
    }
    void write(const void *data, size_t l) {
        const uint8_t *p = (const uint8_t *)data; len += l;
        while (l--) { buf[n++] = *p++; if (n == 64) { block(buf); n = 0; } }
    }
    std::string hex() {
        uint64_t bits = len * 8; uint8_t pad = 0x80; write(&pad, 1); pad = 0;
        while (n != 56) write(&pad, 1);
        uint8_t L[8]; for (int i = 0; i < 8; i++) L[i] = bits >> (56 - 8*i);
        write(L, 8);
        char out[65]; for (int i = 0; i < 8; i++) snprintf(out + 8*i, 9, "%08x", h[i]);
        return out;
    }
};

static bool valid_utf8(const std::string &s) {
    size_t i = 0;
    while (i < s.size()) {
        unsigned char c = s[i];
        int n; uint32_t cp;
        if (c < 0x80) { i++; continue; }
        else if ((c >> 5) == 6) { n = 1; cp = c & 0x1f; }
        else if ((c >> 4) == 14) { n = 2; cp = c & 0x0f; }
        else if ((c >> 3) == 30) { n = 3; cp = c & 0x07; }
        else return false;
        if (i + n >= s.size()) return false;
        for (int k = 1; k <= n; k++) { unsigned char d = s[i+k]; if ((d & 0xc0) != 0x80) return false; cp = cp << 6 | (d & 0x3f); }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += n + 1;
    }
    return true;
}

// json_str writes "key": "escaped" for valid UTF-8, else "key_hex": "...".
static std::string json_str(const char *key, const std::string &s) {
    std::string o;
    if (!valid_utf8(s)) {
        o += "\""; o += key; o += "_hex\":\"";
        char b[3]; for (unsigned char c : s) { snprintf(b, 3, "%02x", c); o += b; }
        return o + "\"";
    }
    o += "\""; o += key; o += "\":\"";
    for (unsigned char c : s) {
        if (c == '"') o += "\\\"";
        else if (c == '\\') o += "\\\\";
        else if (c < 0x20 || c == 0x7f) { char b[8]; snprintf(b, 8, "\\u%04x", c); o += b; }
        else o += (char)c;
    }
    return o + "\"";
}

static std::string ids_json(const std::vector<llama_token> &ids) {
    std::string o = "[";
    for (size_t i = 0; i < ids.size(); i++) { if (i) o += ","; o += std::to_string(ids[i]); }
    return o + "]";
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: refdump VOCAB.gguf PRE|- INPUTS OUT.json\n"); return 2; }
    std::string path = argv[1], pre = argv[2];
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    if (pre != "-") {
        gguf_init_params gp = { true, nullptr };
        gguf_context *g = gguf_init_from_file(path.c_str(), gp);
        if (!g) { fprintf(stderr, "cannot read %s\n", path.c_str()); return 1; }
        gguf_set_val_str(g, "tokenizer.ggml.pre", pre.c_str());
        std::string tmp = std::string("/tmp/refdump-") + pre + ".gguf";
        if (!gguf_write_to_file(g, tmp.c_str(), false)) { fprintf(stderr, "cannot write %s\n", tmp.c_str()); return 1; }
        gguf_free(g);
        path = tmp;
    }
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    llama_model *model = llama_model_load_from_file(path.c_str(), mp);
    if (!model) { fprintf(stderr, "cannot load %s\n", path.c_str()); return 1; }
    const llama_vocab *vocab = llama_model_get_vocab(model);

    std::ifstream in(argv[3], std::ios::binary);
    std::stringstream ss; ss << in.rdbuf();
    std::string all = ss.str(), sep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> inputs;
    for (size_t pos = 0;;) {
        size_t i = all.find(sep, pos);
        if (i == std::string::npos) break;
        inputs.push_back(all.substr(pos, i - pos));
        pos = i + sep.size();
    }

    const int n_vocab = llama_vocab_n_tokens(vocab);
    Sha256 pieces, pieces_plain;
    std::string control = "[", eog = "[";
    for (llama_token id = 0; id < n_vocab; id++) {
        for (int special = 1; special >= 0; special--) {
            std::vector<char> buf(256);
            int n = llama_token_to_piece(vocab, id, buf.data(), buf.size(), 0, special);
            if (n < 0) { buf.resize(-n); n = llama_token_to_piece(vocab, id, buf.data(), buf.size(), 0, special); }
            uint64_t L = n; uint8_t le[8]; for (int k = 0; k < 8; k++) le[k] = L >> (8*k);
            Sha256 &h = special ? pieces : pieces_plain;
            h.write(le, 8); h.write(buf.data(), n);
        }
        if (llama_vocab_is_control(vocab, id)) { if (control.size() > 1) control += ","; control += std::to_string(id); }
        if (llama_vocab_is_eog(vocab, id)) { if (eog.size() > 1) eog += ","; eog += std::to_string(id); }
    }
    control += "]"; eog += "]";

    FILE *out = fopen(argv[4], "w");
    fprintf(out, "{\"llama_cpp_commit\":\"c392e5094deaf2d1a7c18683214f007fad3fe42b\",\n");
    fprintf(out, "\"pre_override\":\"%s\",\"n_vocab\":%d,\"bos\":%d,\"eos\":%d,\"eot\":%d,\"add_bos\":%s,\n", pre.c_str(), n_vocab,
            llama_vocab_bos(vocab), llama_vocab_eos(vocab), llama_vocab_eot(vocab), llama_vocab_get_add_bos(vocab) ? "true" : "false");
    fprintf(out, "\"token_text_sha256\":\"%s\",\"token_text_plain_sha256\":\"%s\",\n", pieces.hex().c_str(), pieces_plain.hex().c_str());
    fprintf(out, "\"control\":%s,\n\"eog\":%s,\n\"cases\":[\n", control.c_str(), eog.c_str());
    bool first = true;
    for (const auto &s : inputs) {
        for (int mode = 0; mode < 3; mode++) {
            bool add_special = mode >= 1, parse_special = mode == 2;
            std::vector<llama_token> ids(s.size() + 8);
            int n = llama_tokenize(vocab, s.data(), s.size(), ids.data(), ids.size(), add_special, parse_special);
            if (n < 0) { ids.resize(-n); n = llama_tokenize(vocab, s.data(), s.size(), ids.data(), ids.size(), add_special, parse_special); }
            ids.resize(n);
            std::vector<char> text(s.size() * 2 + 64);
            int m = llama_detokenize(vocab, ids.data(), ids.size(), text.data(), text.size(), false, false);
            if (m < 0) { text.resize(-m); m = llama_detokenize(vocab, ids.data(), ids.size(), text.data(), text.size(), false, false); }
            std::string dec(text.data(), m);
            fprintf(out, "%s{%s,\"add_special\":%s,\"parse_special\":%s,\"ids\":%s,%s}", first ? "" : ",\n",
                    json_str("text", s).c_str(), add_special ? "true" : "false", parse_special ? "true" : "false",
                    ids_json(ids).c_str(), json_str("decoded", dec).c_str());
            first = false;
        }
    }
    fprintf(out, "\n]}\n");
    fclose(out);
    llama_model_free(model);
    return 0;
}
