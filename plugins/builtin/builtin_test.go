package builtin_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/plugins/builtin"
)

// Every built-in router has a thin binary under plugins/routers/<name>.
func TestEveryRouterHasABinary(t *testing.T) {
	for _, n := range builtin.RouterNames() {
		p := filepath.Join("..", "routers", n, "main.go")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("router %s: %v (add a main that calls builtin.ServeRouter(%q))", n, err, n)
			continue
		}
		if !strings.Contains(string(b), `"`+n+`"`) && n != builtin.ExprName {
			t.Errorf("%s does not serve router %q", p, n)
		}
	}
}

func TestRouterFactory(t *testing.T) {
	tests := []struct {
		name, params string
		wantName     string
		wantErr      string
	}{
		{"p-punc", "0.3", "p-punc:0.3", ""},
		{"p-punc", " 0.7 ", "p-punc:0.7", ""},
		{"h", "2", "h:2", ""},
		{"base", "", "base", ""},
		{"base", "0.3", "", "takes no parameter"},
		{"p", "", "", "needs γ"},
		{"p", "1.5", "", "out of range"},
		{"expr", `base.p1 < 0.3 ? "base" : "aligned"`, "rule", ""},
		{"expr", "rule: |\n  base.p1 < vars.gamma\nvars:\n  gamma: 0.4\n", "rule", ""},
		{"expr", "", "", "must be a rule"},
		{"expr", "base.nope", "", "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.params, func(t *testing.T) {
			f, opts, err := builtin.RouterFactory(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if len(opts) == 0 {
				t.Error("no serve options")
			}
			r, err := f(tt.params)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Name() != tt.wantName {
				t.Errorf("name %q, want %q", r.Name(), tt.wantName)
			}
			if tt.name != builtin.ExprName {
				ref, _ := route.Parse(tt.wantName)
				if r.Needs() != ref.Needs() {
					t.Errorf("needs %+v, want %+v", r.Needs(), ref.Needs())
				}
			}
		})
	}
	if _, _, err := builtin.RouterFactory("nope"); err == nil || !strings.Contains(err.Error(), "p-punc") {
		t.Errorf("unknown router: %v, want the list of routers", err)
	}
}
