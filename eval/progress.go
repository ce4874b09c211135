package eval

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"
)

// progress prints one status line per finished unit of work on stderr:
// units done of the total, tokens per second and the time left. On a
// terminal the line is redrawn in place; elsewhere each update is a line.
type progress struct {
	w      io.Writer
	tty    bool
	phase  string
	unit   string
	total  int
	done   int
	start  time.Time
	doneAt int // units already done when this phase started
	tokens int
	now    func() time.Time
}

func newProgress(w io.Writer, phase, unit string, done, total int) *progress {
	p := &progress{w: w, phase: phase, unit: unit, total: total, done: done, doneAt: done, now: time.Now}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	p.start = p.now()
	return p
}

// add records n more units and tokens more tokens and prints the line.
func (p *progress) add(n, tokens int) {
	if p == nil || p.w == nil {
		return
	}
	p.done += n
	p.tokens += tokens
	el := p.now().Sub(p.start).Seconds()
	line := fmt.Sprintf("%s: %d/%d %s (%.0f%%)", p.phase, p.done, p.total, p.unit, 100*float64(p.done)/float64(max(p.total, 1)))
	if el > 0 && p.tokens > 0 {
		line += fmt.Sprintf("  %.1f tok/s", float64(p.tokens)/el)
	}
	if ran := p.done - p.doneAt; ran > 0 && el > 0 && p.done < p.total {
		left := time.Duration(float64(p.total-p.done) * el / float64(ran) * float64(time.Second))
		line += "  ETA " + left.Round(time.Second).String()
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r\x1b[K%s", line)
		if p.done >= p.total {
			fmt.Fprintln(p.w)
		}
		return
	}
	fmt.Fprintln(p.w, line)
}
