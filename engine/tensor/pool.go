package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// spinTime is how long an idle worker, and a caller waiting for its
// chunks, keep polling before they block. A forward pass hands work to the
// pool every few microseconds; waking a blocked goroutine costs several
// microseconds (far more on a loaded machine), polling a channel a few
// nanoseconds. Past spinTime without work the goroutines block, so an idle
// pool costs no CPU.
const spinTime = 50 * time.Microsecond

// Pool is a persistent set of worker goroutines that run data-parallel loops
// (Parallel) and matrix products (MatMul). Workers are started once by
// NewPool; calls hand them chunks over a channel and spawn no goroutines.
// A Pool is safe for concurrent use: concurrent calls share the workers, and
// a waiting caller runs queued chunks itself, so nested calls cannot
// deadlock.
type Pool struct {
	workers int
	vnni    bool // Q8_0/Q4_0 MatMul through the AVX-512 VNNI kernels
	tasks   chan task
	quit    chan struct{}
	closed  atomic.Bool // quit is closed
	wg      sync.WaitGroup
	once    sync.Once

	mu   sync.Mutex
	free []*job // reusable per-call state (scratch buffers included)
}

// task is one contiguous chunk [lo,hi) of a job.
type task struct {
	j      *job
	lo, hi int
}

// job is the state of one Parallel or MatMul call. Jobs are recycled through
// Pool.free so that their scratch buffers survive between calls.
type job struct {
	pending atomic.Int32
	done    chan struct{}

	fn func(lo, hi int) // Parallel

	mm mmArgs // MatMul
}

// maxWorkers bounds the pool size whatever a configuration asks for.
const maxWorkers = 1024

// NewPool starts a pool of workers goroutines; workers <= 0 means
// runtime.GOMAXPROCS(0), and more than 1024 means 1024. The calling goroutine
// of Parallel and MatMul also computes, so workers-1 goroutines are started.
func NewPool(workers int) *Pool {
	return newPool(workers, haveVNNI)
}

// newPool is NewPool with the kernel choice explicit, so that tests can run
// the AVX2 kernels on a CPU that has VNNI.
func newPool(workers int, vnni bool) *Pool {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, maxWorkers)
	p := &Pool{
		workers: workers,
		vnni:    vnni && haveVNNI,
		tasks:   make(chan task, 4*workers),
		quit:    make(chan struct{}),
	}
	for i := 1; i < workers; i++ {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

// Workers returns the number of goroutines that compute a call, the caller's
// included.
func (p *Pool) Workers() int { return p.workers }

// Close stops the workers and waits for them to exit. It is idempotent.
// Calls made after Close still complete, computed by the calling goroutine.
func (p *Pool) Close() {
	p.once.Do(func() {
		p.closed.Store(true)
		close(p.quit)
		p.wg.Wait()
	})
}

func (p *Pool) work() {
	defer p.wg.Done()
	for {
		if t, ok := p.poll(nil); ok {
			t.run()
			continue
		}
		select {
		case t := <-p.tasks:
			t.run()
		case <-p.quit:
			return
		}
	}
}

// poll spins for up to spinTime waiting for a queued task, or, when j is
// not nil, for j's chunks to be done (ok false, task zero). It returns ok
// false without a task when the time is up or the pool is closed.
func (p *Pool) poll(j *job) (t task, ok bool) {
	var start time.Time
	for i := 0; ; i++ {
		if j != nil && j.pending.Load() == 0 {
			return task{}, false
		}
		// A non-blocking receive on an empty channel takes no lock.
		select {
		case t := <-p.tasks:
			return t, true
		default:
		}
		if i%64 == 0 {
			if i == 0 {
				start = time.Now()
			} else if time.Since(start) > spinTime || p.closed.Load() {
				return task{}, false
			}
			// Let other goroutines of the process have this thread.
			runtime.Gosched()
		}
	}
}

func (t task) run() {
	j := t.j
	if j.fn != nil {
		j.fn(t.lo, t.hi)
	} else {
		j.mm.run(t.lo, t.hi)
	}
	if j.pending.Add(-1) == 0 {
		j.done <- struct{}{}
	}
}

func (p *Pool) getJob() *job {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		j := p.free[n-1]
		p.free = p.free[:n-1]
		return j
	}
	return &job{done: make(chan struct{}, 1)}
}

func (p *Pool) putJob(j *job) {
	j.fn = nil
	j.mm.clearRefs()
	p.mu.Lock()
	p.free = append(p.free, j)
	p.mu.Unlock()
}

// Parallel splits [0,n) into at most Workers() contiguous chunks of nearly
// equal size, runs fn on each across the pool and returns when all are done.
// n <= 0 returns at once. fn may itself call Parallel; a panic in fn on a
// worker goroutine crashes the program, as in any goroutine.
func (p *Pool) Parallel(n int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if p.workers == 1 || n == 1 {
		fn(0, n)
		return
	}
	j := p.getJob()
	j.fn = fn
	p.run(j, n, 1)
	p.putJob(j)
}

// run executes job j over [0,n) in chunks whose boundaries are multiples of
// align (except the last), the caller computing the first chunk and helping
// with queued chunks while it waits.
func (p *Pool) run(j *job, n, align int) {
	chunks := min(p.workers, (n+align-1)/align)
	if chunks <= 1 {
		j.pending.Store(1)
		task{j, 0, n}.run()
		<-j.done
		return
	}
	per := (n + chunks - 1) / chunks
	per = (per + align - 1) / align * align
	chunks = (n + per - 1) / per
	j.pending.Store(int32(chunks))
	for lo := per; lo < n; lo += per {
		t := task{j, lo, min(n, lo+per)}
		select {
		case p.tasks <- t:
		default: // queue full (concurrent callers): compute it here
			t.run()
		}
	}
	first := task{j, 0, min(n, per)}
	first.run()
	for {
		// Help with queued chunks (of this or another call) while
		// spinning; once every chunk is done, the last one's signal is
		// sent or about to be.
		for {
			t, ok := p.poll(j)
			if !ok {
				break
			}
			t.run()
		}
		select {
		case <-j.done:
			return
		case t := <-p.tasks:
			t.run()
		}
	}
}
