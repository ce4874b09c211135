package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/baco-go/baco/core/decode"
	"github.com/baco-go/baco/server/oai"
)

// sse writes server-sent events; the headers go out with the first event.
type sse struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
	buf     bytes.Buffer
}

func newSSE(w http.ResponseWriter) *sse { return &sse{w: w, rc: http.NewResponseController(w)} }

func (s *sse) start() {
	if s.started {
		return
	}
	s.started = true
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	s.w.WriteHeader(http.StatusOK)
}

// send writes one "data:" event holding v as JSON and flushes it.
func (s *sse) send(v any) error {
	s.start()
	s.buf.Reset()
	s.buf.WriteString("data: ")
	enc := json.NewEncoder(&s.buf)
	if err := enc.Encode(v); err != nil {
		return err
	}
	s.buf.WriteByte('\n') // Encode ended the JSON with one newline; a blank line ends the event
	if _, err := s.w.Write(s.buf.Bytes()); err != nil {
		return err
	}
	return s.rc.Flush()
}

// done writes OpenAI's end-of-stream marker.
func (s *sse) done() error {
	s.start()
	if _, err := s.w.Write([]byte("data: [DONE]\n\n")); err != nil {
		return err
	}
	return s.rc.Flush()
}

// streamer formats one endpoint's stream.
type streamer interface {
	// open returns the events sent when the stream starts.
	open() []any
	// chunk formats what a release added to sample smpl of j as events;
	// fin is the finished sample on the choice's last release, else nil.
	chunk(j *job, smpl int, d delta, fin *decode.Sample) []any
	// usage returns the trailing usage event, or nil.
	usage(u oai.Usage) any
	// doneMarker tells whether the stream ends with "data: [DONE]".
	doneMarker() bool
}

// stream relays a run's tokens as server-sent events until every job has
// ended. Errors before the first event are plain error responses; after
// it they are sent as an event holding the error object.
func (s *Server) stream(w http.ResponseWriter, reqCtx, ctx context.Context, r *run, p *params, f streamer) {
	out := newSSE(w)
	ems := map[[2]int]*emitter{}
	em := func(job, smpl int) *emitter {
		k := [2]int{job, smpl}
		e := ems[k]
		if e == nil {
			e = &emitter{stops: p.stop}
			ems[k] = e
		}
		return e
	}
	begin := func() error {
		if out.started {
			return nil
		}
		out.start()
		for _, ev := range f.open() {
			if err := out.send(ev); err != nil {
				return err
			}
		}
		return nil
	}
	var msgs []tokenMsg
	var touched [][2]int
	relay := func() error {
		msgs = r.q.drain(msgs[:0])
		if len(msgs) == 0 {
			return nil
		}
		if err := begin(); err != nil {
			return err
		}
		touched = touched[:0]
		for i := range msgs {
			m := &msgs[i]
			k := [2]int{m.job, m.ev.Sample}
			em(m.job, m.ev.Sample).add(m)
			if len(touched) == 0 || touched[len(touched)-1] != k {
				touched = append(touched, k)
			}
		}
		for i, k := range touched {
			if i > 0 && containsKey(touched[:i], k) {
				continue
			}
			if d := em(k[0], k[1]).release(false, ""); !d.empty() {
				if err := sendAll(out, f.chunk(r.jobs[k[0]], k[1], d, nil)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	fail := func(e *oai.Error) {
		if e == nil {
			return
		}
		if !out.started {
			writeError(w, e)
			return
		}
		out.send(oai.ErrorBody{Error: e})
	}
	results := make([]*decode.Result, len(r.jobs))
	for r.waiting > 0 {
		select {
		case <-r.q.notify:
			if relay() != nil {
				return
			}
		case o := <-r.out:
			r.waiting--
			if o.err != nil {
				fail(s.submitError(r.sv, w, reqCtx, o.err))
				return
			}
			if relay() != nil || begin() != nil {
				return
			}
			results[o.job] = o.res
			for i := range o.res.Samples {
				smp := &o.res.Samples[i]
				d := em(o.job, i).release(true, smp.Text)
				if sendAll(out, f.chunk(r.jobs[o.job], i, d, smp)) != nil {
					return
				}
			}
		case <-ctx.Done():
			fail(s.submitError(r.sv, w, reqCtx, ctx.Err()))
			return
		}
	}
	if p.withUsage {
		if u := f.usage(usage(r.jobs, results)); u != nil && out.send(u) != nil {
			return
		}
	}
	if f.doneMarker() {
		out.done()
	}
}

func sendAll(out *sse, evs []any) error {
	for _, ev := range evs {
		if err := out.send(ev); err != nil {
			return err
		}
	}
	return nil
}

func containsKey(ks [][2]int, k [2]int) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}
