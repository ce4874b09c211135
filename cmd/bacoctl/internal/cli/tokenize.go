package cli

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/baco-go/baco/engine/gguf"
	"github.com/baco-go/baco/engine/tokenizer"
)

func (a *app) tokenizeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tokenize MODEL [TEXT]",
		Short: "Tokenize TEXT (or standard input) with a GGUF model's tokenizer",
		Long: `Tokenize prints the token ids of TEXT separated by single spaces on one line,
or with --pieces one "id<TAB>piece" line per token. Without TEXT it reads standard input.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			addSpecial, _ := cmd.Flags().GetBool("add-special")
			parseSpecial, _ := cmd.Flags().GetBool("parse-special")
			pieces, _ := cmd.Flags().GetBool("pieces")
			f, closeFn, err := a.openModelFile(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer closeFn()
			tok, err := tokenizer.FromGGUF(f)
			if err != nil {
				return usageError{fmt.Errorf("%s: %w", args[0], err)}
			}
			var text string
			if len(args) == 2 {
				text = args[1]
			} else if text, err = readAllString(a.io.In); err != nil {
				return fmt.Errorf("read standard input: %w", err)
			}
			ids := tok.Encode(text, addSpecial, parseSpecial)
			if pieces {
				for _, id := range ids {
					fmt.Fprintf(a.io.Out, "%d\t%s\n", id, tok.Piece(id))
				}
				return nil
			}
			parts := make([]string, len(ids))
			for i, id := range ids {
				parts[i] = fmt.Sprint(id)
			}
			fmt.Fprintln(a.io.Out, strings.Join(parts, " "))
			return nil
		},
	}
	cmd.Flags().Bool("add-special", true, "add BOS/EOS as the model's metadata says")
	cmd.Flags().Bool("parse-special", false, "recognise control-token text such as <s>")
	cmd.Flags().Bool("pieces", false, "print id<TAB>piece lines")
	return cmd
}

func (a *app) inspectCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "inspect MODEL",
		Short: "Print a GGUF model's metadata, tensor table and vocabulary fingerprint",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, closeFn, err := a.openModelFile(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer closeFn()
			w := a.io.Out
			fmt.Fprintf(w, "file: %s\nversion: %d\nalignment: %d\ntensors: %d\nmetadata: %d keys\n\n", args[0], f.Version, f.Alignment, len(f.Tensors), len(f.KVs))
			kvs := append([]gguf.KV(nil), f.KVs...)
			sort.SliceStable(kvs, func(i, j int) bool { return kvs[i].Key < kvs[j].Key })
			for _, kv := range kvs {
				fmt.Fprintf(w, "%-45s %s\n", kv.Key, summarizeValue(kv.Value))
			}
			fmt.Fprintln(w)
			var total uint64
			fmt.Fprintf(w, "%-36s %-6s %-22s %12s\n", "tensor", "type", "shape", "bytes")
			for _, t := range f.Tensors {
				dims := make([]string, len(t.Dims))
				for i, d := range t.Dims {
					dims[i] = fmt.Sprint(d)
				}
				fmt.Fprintf(w, "%-36s %-6s %-22s %12d\n", t.Name, t.Type, strings.Join(dims, "x"), t.Size)
				total += t.Size
			}
			fmt.Fprintf(w, "total tensor bytes: %d\n", total)
			if tok, err := tokenizer.FromGGUF(f); err == nil {
				fmt.Fprintf(w, "vocabulary: %d tokens, fingerprint %s\n", tok.VocabSize(), tok.Fingerprint())
			} else {
				fmt.Fprintf(w, "vocabulary: %v\n", err)
			}
			return nil
		},
	}
}

// summarizeValue prints a metadata value, eliding long arrays and strings.
func summarizeValue(v any) string {
	switch x := v.(type) {
	case gguf.Array:
		n := x.Len()
		s := fmt.Sprint(x.Values)
		if len(s) > 80 {
			s = truncateUTF8(s, 80) + "…"
		}
		return fmt.Sprintf("[%d] %s", n, s)
	case string:
		q := fmt.Sprintf("%q", x)
		if len(q) > 100 {
			q = truncateUTF8(q, 100) + "…"
		}
		return q
	}
	return fmt.Sprint(v)
}

func truncateUTF8(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
