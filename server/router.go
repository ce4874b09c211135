package server

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"

	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/pipeline"
	"github.com/baco-go/baco/server/oai"
)

// routerCache keeps the routers built for request extensions, so a rule
// sent with every request is compiled once. It holds at most max entries
// and starts afresh when full.
type routerCache struct {
	mu  sync.Mutex
	max int
	m   map[string]route.Router
}

func newRouterCache(max int) *routerCache {
	return &routerCache{max: max, m: map[string]route.Router{}}
}

// get builds (or reuses) the router spec describes.
func (c *routerCache) get(spec pipeline.RouterSpec) (route.Router, error) {
	kb, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("%w: vars: %w", pipeline.ErrSpec, err)
	}
	key := string(kb)
	c.mu.Lock()
	r, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return r, nil
	}
	r, err = pipeline.BuildRouter(spec)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) >= c.max {
		c.m = map[string]route.Router{}
	}
	c.m[key] = r
	c.mu.Unlock()
	return r, nil
}

// requestRouter applies the "baco" extension to the model's router spec:
// router replaces a built-in router, rule replaces the routing with a rule
// (keeping the pipeline's vars), vars add rule constants, gamma replaces a
// built-in router's γ or sets vars.gamma of a rule. It returns nil when
// the request keeps the pipeline's router.
func (sv *served) requestRouter(x *oai.Extension) (route.Router, *oai.Error) {
	if x == nil || (x.Router == "" && x.Rule == "" && x.Gamma == nil && len(x.Vars) == 0) {
		return nil, nil
	}
	spec := sv.m.Router
	spec.Vars = maps.Clone(spec.Vars)
	switch {
	case x.Router != "":
		spec = pipeline.RouterSpec{Name: x.Router}
	case x.Rule != "":
		spec = pipeline.RouterSpec{Rule: x.Rule, Vars: spec.Vars}
	}
	if spec.Name == "" && spec.Rule == "" && spec.PolicyFile == "" {
		spec.Name = "p-punc:0.5" // pipeline.BuildRouter's default
	}
	if len(x.Vars) > 0 {
		if spec.Rule == "" {
			return nil, oai.Invalid("baco.vars", "baco.vars apply to a rule; this request routes with %s", routerLabel(spec))
		}
		if spec.Vars == nil {
			spec.Vars = map[string]any{}
		}
		maps.Copy(spec.Vars, x.Vars)
	}
	if x.Gamma != nil {
		g := strconv.FormatFloat(*x.Gamma, 'g', -1, 64)
		switch {
		case spec.Name != "":
			name, _, _ := strings.Cut(spec.Name, ":")
			spec.Name = name + ":" + g
		case spec.Rule != "":
			if spec.Vars == nil {
				spec.Vars = map[string]any{}
			}
			spec.Vars["gamma"] = *x.Gamma
		default:
			return nil, oai.Invalid("baco.gamma", "baco.gamma cannot override the vars of the pipeline's policy file %s; send a rule instead", spec.PolicyFile)
		}
	}
	r, err := sv.routers.get(spec)
	if err != nil {
		return nil, oai.Invalid("baco", "baco: %v", err).WithCode("invalid_router")
	}
	return r, nil
}

func routerLabel(s pipeline.RouterSpec) string {
	switch {
	case s.Rule != "":
		return "a rule"
	case s.PolicyFile != "":
		return "policy file " + s.PolicyFile
	}
	return "router " + s.Name
}
