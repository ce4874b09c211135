package hub

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// bar shows the progress of one download: on a terminal a line redrawn
// at most ten times a second, elsewhere one line when the download starts
// and one when it ends. A nil *bar (no progress writer) does nothing.
type bar struct {
	w           io.Writer
	tty         bool
	name        string
	total, done int64
	from        int64 // bytes already there when this transfer started
	start, last time.Time
}

// newBar starts a bar for name (total -1 when unknown), done bytes already
// present; nil when w is nil.
func newBar(w io.Writer, name string, total, done int64) *bar {
	if w == nil {
		return nil
	}
	b := &bar{w: w, name: name, total: total, done: done, from: done, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b.tty = true
		b.draw()
		return b
	}
	switch {
	case done > 0:
		fmt.Fprintf(w, "resuming %s at %s of %s\n", name, human(done), human(total))
	default:
		fmt.Fprintf(w, "pulling %s (%s)\n", name, human(total))
	}
	return b
}

// Write counts p (the bar is fed through an io.TeeReader).
func (b *bar) Write(p []byte) (int, error) {
	if b == nil {
		return len(p), nil
	}
	b.done += int64(len(p))
	if b.tty {
		if now := time.Now(); now.Sub(b.last) >= 100*time.Millisecond {
			b.last = now
			b.draw()
		}
	}
	return len(p), nil
}

// end finishes the bar; status "" means success.
func (b *bar) end(status string) {
	if b == nil {
		return
	}
	if b.tty {
		b.draw()
		if status != "" {
			fmt.Fprintf(b.w, "  %s", status)
		}
		fmt.Fprintln(b.w)
		return
	}
	if status != "" {
		fmt.Fprintf(b.w, "%s %s after %s of %s\n", b.name, status, human(b.done), human(b.total))
	}
}

// draw redraws the terminal line: name, percentage, bar, sizes, rate.
func (b *bar) draw() {
	const width = 24
	frac := 0.0
	if b.total > 0 {
		frac = min(float64(b.done)/float64(b.total), 1)
	}
	fill := int(frac * width)
	rate := ""
	if el := time.Since(b.start).Seconds(); el > 0.5 {
		rate = human(int64(float64(b.done-b.from)/el)) + "/s"
	}
	name := b.name
	if len(name) > 32 {
		name = "…" + name[len(name)-31:]
	}
	fmt.Fprintf(b.w, "\r%-32s %3.0f%% ▕%s%s▏ %9s / %-9s %10s", name, 100*frac,
		strings.Repeat("█", fill), strings.Repeat(" ", width-fill), human(b.done), human(b.total), rate)
}

// human formats a byte count ("?" when negative).
func human(n int64) string {
	switch {
	case n < 0:
		return "?"
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}
