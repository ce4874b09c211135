package tokenclass

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// ggufVocab is the part of a GGUF file's metadata these tests read.
type ggufVocab struct {
	tokens []string
	types  []int32 // tokenizer.ggml.token_type; 3 = control
}

// readGGUFVocab reads tokenizer.ggml.tokens and tokenizer.ggml.token_type
// from a GGUF v2/v3 file. It is a minimal test-only reader (the engine owns
// the real one): every length is bounded by the file size.
func readGGUFVocab(path string) (*ggufVocab, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	limit := uint64(st.Size())
	r := bufio.NewReader(f)
	var hdr struct {
		Magic   [4]byte
		Version uint32
		Tensors uint64
		KVs     uint64
	}
	if err := binary.Read(r, binary.LittleEndian, &hdr); err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	if string(hdr.Magic[:]) != "GGUF" || hdr.Version < 2 {
		return nil, fmt.Errorf("%s: not a GGUF v2+ file", path)
	}
	if hdr.KVs > limit {
		return nil, fmt.Errorf("%s: kv count %d too large", path, hdr.KVs)
	}
	u32 := func() (uint32, error) {
		var v uint32
		err := binary.Read(r, binary.LittleEndian, &v)
		return v, err
	}
	u64 := func() (uint64, error) {
		var v uint64
		err := binary.Read(r, binary.LittleEndian, &v)
		return v, err
	}
	str := func() (string, error) {
		n, err := u64()
		if err != nil {
			return "", err
		}
		if n > limit {
			return "", fmt.Errorf("string length %d too large", n)
		}
		b := make([]byte, n)
		_, err = io.ReadFull(r, b)
		return string(b), err
	}
	sizes := map[uint32]int{0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
	var skipValue func(typ uint32) error
	skipValue = func(typ uint32) error {
		if n, ok := sizes[typ]; ok {
			_, err := r.Discard(n)
			return err
		}
		switch typ {
		case 8:
			_, err := str()
			return err
		case 9:
			et, err := u32()
			if err != nil {
				return err
			}
			n, err := u64()
			if err != nil {
				return err
			}
			if n > limit {
				return fmt.Errorf("array length %d too large", n)
			}
			for i := uint64(0); i < n; i++ {
				if err := skipValue(et); err != nil {
					return err
				}
			}
			return nil
		}
		return fmt.Errorf("unknown value type %d", typ)
	}
	v := &ggufVocab{}
	for i := uint64(0); i < hdr.KVs; i++ {
		key, err := str()
		if err != nil {
			return nil, fmt.Errorf("%s: kv %d key: %w", path, i, err)
		}
		typ, err := u32()
		if err != nil {
			return nil, err
		}
		if typ != 9 || (key != "tokenizer.ggml.tokens" && key != "tokenizer.ggml.token_type") {
			if err := skipValue(typ); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", path, key, err)
			}
			continue
		}
		et, err := u32()
		if err != nil {
			return nil, err
		}
		n, err := u64()
		if err != nil {
			return nil, err
		}
		if n > limit {
			return nil, fmt.Errorf("%s: %s: length %d too large", path, key, n)
		}
		switch {
		case key == "tokenizer.ggml.tokens" && et == 8:
			v.tokens = make([]string, n)
			for j := range v.tokens {
				if v.tokens[j], err = str(); err != nil {
					return nil, err
				}
			}
		case key == "tokenizer.ggml.token_type" && et == 5:
			v.types = make([]int32, n)
			if err := binary.Read(r, binary.LittleEndian, v.types); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%s: %s: unexpected element type %d", path, key, et)
		}
		if v.tokens != nil && v.types != nil {
			return v, nil
		}
	}
	if v.tokens == nil {
		return nil, errors.New(path + ": no tokenizer.ggml.tokens")
	}
	return v, nil
}
