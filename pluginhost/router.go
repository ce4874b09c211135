package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/baco-go/baco/core/route"
	"github.com/baco-go/baco/sdk/plugin"
)

// routerProc is the one process that serves every instance of a router
// plugin.
type routerProc struct {
	h     *Host
	entry Entry

	startMu sync.Mutex
	mu      sync.Mutex
	cur     *proc
	inc     uint64
}

// routerProcFor returns the shared process holder of an entry.
func (h *Host) routerProcFor(e Entry) *routerProc {
	key := e.Path + "\x00" + strings.Join(e.Args, "\x00")
	h.mu.Lock()
	defer h.mu.Unlock()
	rp, ok := h.routers[key]
	if !ok {
		rp = &routerProc{h: h, entry: e}
		h.routers[key] = rp
	}
	return rp
}

// current returns a usable process, restarting a dead one.
func (rp *routerProc) current(ctx context.Context) (*proc, uint64, error) {
	rp.mu.Lock()
	cur, inc := rp.cur, rp.inc
	rp.mu.Unlock()
	if cur != nil && cur.usable() {
		return cur, inc, nil
	}
	rp.startMu.Lock()
	defer rp.startMu.Unlock()
	rp.mu.Lock()
	cur, inc = rp.cur, rp.inc
	rp.mu.Unlock()
	if cur != nil {
		if cur.usable() {
			return cur, inc, nil
		}
		rp.h.log.Warn("restarting plugin", "plugin", rp.entry.Name, "kind", plugin.KindRouter, "cause", cur.cause())
		rp.h.release(cur)
	}
	p, err := rp.h.start(ctx, rp.entry, plugin.KindRouter)
	if err != nil {
		return nil, 0, err
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	rp.inc++
	rp.cur = p
	return p, rp.inc, nil
}

// Router is a route.Router instance served by a supervised router plugin.
// Router plugins are stateless between Decide calls, so when the process
// dies the in-flight Decide fails with an error naming the plugin, and the
// next Decide restarts the process and re-opens the instance with the same
// parameters.
type Router struct {
	rp     *routerProc
	params string
	name   string
	needs  route.Needs

	mu  sync.Mutex
	rc  *plugin.RouterClient
	inc uint64
}

var _ route.Router = (*Router)(nil)

// Router opens an instance of the router plugin called name with a
// parameter string (e.g. "0.3"). Instances of one plugin share a process.
func (h *Host) Router(ctx context.Context, name, params string) (*Router, error) {
	e, err := h.Find(plugin.KindRouter, name)
	if err != nil {
		return nil, err
	}
	return h.RouterEntry(ctx, e, params)
}

// RouterEntry is Router for an entry from List or Find.
func (h *Host) RouterEntry(ctx context.Context, e Entry, params string) (*Router, error) {
	r := &Router{rp: h.routerProcFor(e), params: params}
	rc, _, err := r.client(ctx)
	if err != nil {
		return nil, err
	}
	r.name, r.needs = rc.Name(), rc.Needs()
	return r, nil
}

// client returns the instance on the current process, opening it again
// after a restart.
func (r *Router) client(ctx context.Context) (*plugin.RouterClient, *proc, error) {
	p, inc, err := r.rp.current(ctx)
	if err != nil {
		return nil, nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rc != nil && r.inc == inc {
		return r.rc, p, nil
	}
	octx, cancel := context.WithTimeout(ctx, r.rp.h.cfg.CallTimeout)
	defer cancel()
	rc, err := p.conn.OpenRouter(octx, r.rp.entry.Name, r.params)
	if err != nil {
		if errors.Is(err, plugin.ErrUnavailable) || errors.Is(err, plugin.ErrBadAnswer) {
			p.fail(err)
		}
		return nil, nil, err
	}
	if r.name != "" && (rc.Name() != r.name || rc.Needs() != r.needs) {
		p.fail(plugin.ErrBadAnswer)
		return nil, nil, &plugin.Error{Plugin: r.rp.entry.Name, Op: "open router",
			Err: fmt.Errorf("%w: after a restart the instance is %s %+v, before it was %s %+v", plugin.ErrBadAnswer, rc.Name(), rc.Needs(), r.name, r.needs)}
	}
	r.rc, r.inc = rc, inc
	return rc, p, nil
}

// Name implements route.Router: the instance's name as the plugin reports
// it (e.g. "p-punc:0.3").
func (r *Router) Name() string { return r.name }

// Needs implements route.Router.
func (r *Router) Needs() route.Needs { return r.needs }

// Entry is the plugin serving the router.
func (r *Router) Entry() Entry { return r.rp.entry }

// PID is the process id of the router's current process (0 when none).
func (r *Router) PID() int {
	r.rp.mu.Lock()
	defer r.rp.mu.Unlock()
	if r.rp.cur == nil {
		return 0
	}
	return r.rp.cur.pid
}

// Decide implements route.Router: one RPC for the whole batch.
func (r *Router) Decide(ctx context.Context, views []route.View, out []route.Decision) error {
	rc, p, err := r.client(ctx)
	if err != nil {
		return err
	}
	timeout := r.rp.h.cfg.StepTimeout
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err = rc.Decide(cctx, views, out)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, plugin.ErrUnavailable):
		p.fail(err)
		return gone(err)
	case errors.Is(err, plugin.ErrBadAnswer):
		p.fail(err)
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		p.fail(err)
		return &plugin.Error{Plugin: r.rp.entry.Name, Op: "decide", Err: fmt.Errorf("no answer within %v; the plugin will be restarted: %w", timeout, err)}
	}
	if p.client.Exited() {
		p.fail(err)
	}
	return err
}
