// Package pipeline assembles a BACo pipeline from a declarative Spec: it
// resolves the two model references to backends, builds the router from a
// name, an expr rule or a policy file, and wires the decoder. The CLI and
// the server both start from here.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/baco-go/baco/core/backend"
	"github.com/baco-go/baco/core/decode"
	"github.com/baco-go/baco/core/policy"
	"github.com/baco-go/baco/core/route"
)

// ErrSpec marks an invalid specification (bad router, rule, flag value):
// the CLI exits with code 2 on it.
var ErrSpec = errors.New("invalid specification")

// RouterSpec chooses the router: exactly one of Name, Rule or PolicyFile.
type RouterSpec struct {
	// Name is a built-in router with its parameter, e.g. "p-punc:0.5".
	Name string
	// Rule is an expr rule (DESIGN §6).
	Rule string
	// PolicyFile is a YAML policy file holding a rule and its vars.
	PolicyFile string
	// Vars are the user constants visible to a rule as vars.<name>.
	Vars map[string]any
}

// BuildRouter compiles the router a RouterSpec names. It loads no model, so
// a bad rule is reported before any weights are read.
func BuildRouter(s RouterSpec) (route.Router, error) {
	set := 0
	for _, v := range []string{s.Name, s.Rule, s.PolicyFile} {
		if v != "" {
			set++
		}
	}
	switch {
	case set > 1:
		return nil, fmt.Errorf("%w: give one of --router, --rule or --policy, not several", ErrSpec)
	case s.Rule != "":
		p, err := policy.Compile(s.Rule, s.Vars)
		if err != nil {
			return nil, fmt.Errorf("%w: rule: %w", ErrSpec, err)
		}
		return p, nil
	case s.PolicyFile != "":
		p, err := policy.LoadFile(s.PolicyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSpec, err)
		}
		return p, nil
	case s.Name == "":
		s.Name = "p-punc:0.5"
	}
	r, err := route.Parse(s.Name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSpec, err)
	}
	return r, nil
}

// Opener resolves a model reference (a file path, a plugin name, a URL) to
// a running backend.
type Opener func(ctx context.Context, ref string) (backend.Backend, error)

// Spec describes a pipeline.
type Spec struct {
	// Base and Aligned are model references.
	Base, Aligned string
	// Router chooses the router.
	Router RouterSpec
	// Built, when set, is the router to use; Router is then ignored (the
	// caller built it, e.g. a router plugin).
	Built route.Router
	// Boundary is "word" (default) or "token".
	Boundary string
	// StrictEntropy refuses a router that reads entropy over a backend that
	// can only estimate it from top-k candidates (default: a warning).
	StrictEntropy bool
}

// Pipeline is a ready decoder with the backends it owns.
type Pipeline struct {
	// Decoder runs generations.
	Decoder *decode.Decoder
	// Base and Aligned are the two backends (the same value when both refs
	// are equal).
	Base, Aligned backend.Backend
	closers       []backend.Backend
}

// Open builds the router (failing fast on a bad rule), opens both models
// through open and wires the decoder. When Base and Aligned name the same
// model it is loaded once.
func Open(ctx context.Context, s Spec, open Opener, log *slog.Logger) (*Pipeline, error) {
	if strings.TrimSpace(s.Base) == "" || strings.TrimSpace(s.Aligned) == "" {
		return nil, fmt.Errorf("%w: both a base model (--base) and an aligned model (--aligned) are required", ErrSpec)
	}
	r := s.Built
	if r == nil {
		var err error
		if r, err = BuildRouter(s.Router); err != nil {
			return nil, err
		}
	}
	bd, err := decode.ParseBoundary(s.Boundary)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSpec, err)
	}
	p := &Pipeline{}
	p.Base, err = open(ctx, s.Base)
	if err != nil {
		return nil, fmt.Errorf("base model %s: %w", s.Base, err)
	}
	p.closers = append(p.closers, p.Base)
	if s.Aligned == s.Base {
		p.Aligned = p.Base
	} else {
		p.Aligned, err = open(ctx, s.Aligned)
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("aligned model %s: %w", s.Aligned, err)
		}
		p.closers = append(p.closers, p.Aligned)
	}
	p.Decoder, err = decode.New(ctx, decode.Config{Base: p.Base, Aligned: p.Aligned, Router: r, Boundary: bd, Logger: log})
	if err != nil {
		p.Close()
		return nil, err
	}
	if err := CheckEntropy(r, p.Decoder.BaseInfo(), p.Decoder.AlignedInfo(), s.StrictEntropy, log); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// CheckEntropy warns (or, when strict, fails) when r reads next-token
// entropy but a model it reads only returns top-k candidates, so the
// entropy it sees is an estimate (top-k plus tail mass).
func CheckEntropy(r route.Router, base, aligned backend.Info, strict bool, log *slog.Logger) error {
	er, ok := r.(route.EntropyReader)
	if !ok || !er.ReadsEntropy() {
		return nil
	}
	needs := r.Needs()
	var estimated []string
	if needs.Base && !base.Caps.FullDist {
		estimated = append(estimated, fmt.Sprintf("base model %q", base.Name))
	}
	if needs.Aligned && !aligned.Caps.FullDist {
		estimated = append(estimated, fmt.Sprintf("aligned model %q", aligned.Name))
	}
	if len(estimated) == 0 {
		return nil
	}
	msg := fmt.Sprintf("router %s reads entropy, but the %s returns only top-k candidates: its entropy is estimated from them plus the tail mass",
		r.Name(), strings.Join(estimated, " and the "))
	if strict {
		return fmt.Errorf("%w: %s (strict entropy is on; use a backend with full distributions, e.g. llamacpp with full_dist)", ErrSpec, msg)
	}
	if log == nil {
		log = slog.Default()
	}
	log.Warn(msg)
	return nil
}

// Close releases both backends.
func (p *Pipeline) Close() error {
	var errs []error
	for _, c := range p.closers {
		errs = append(errs, c.Close())
	}
	p.closers = nil
	return errors.Join(errs...)
}
