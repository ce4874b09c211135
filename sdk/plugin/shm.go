package plugin

import (
	"fmt"
	"sync"
	"unsafe"
)

// Shared memory for full distributions. Through gRPC a batch of
// full-vocabulary distributions is copied five or six times on its way
// (marshal, HTTP/2 framing, socket, reassembly, unmarshal); through a
// shared-memory slot it is copied twice (the plugin writes it, the host
// copies it out), which removes most of the plugin path's cost per step
// for large vocabularies. The host offers a file at Configure; a plugin
// that maps it writes full distributions into the slot the host lends each
// Step. Everything else still travels over gRPC, and either side may fall
// back to inline bytes at any time.

// Default arena geometry: a slot holds a 16-sequence step over a 150k
// vocabulary (9.6 MB); four slots serve concurrent steps (base and aligned
// of several generations). Pages are only allocated when written.
const (
	shmSlots    = 4
	shmSlotSize = 16 << 20
)

// arena is a mapped shared-memory file divided into slots.
type arena struct {
	mem      []byte
	slotSize int
	slots    int
	free     chan int

	mu     sync.RWMutex // held shared while a slot is in use; unmap takes it
	closed bool
}

func newArenaFrom(mem []byte, slots, slotSize int) *arena {
	a := &arena{mem: mem, slots: slots, slotSize: slotSize, free: make(chan int, slots)}
	for i := 0; i < slots; i++ {
		a.free <- i
	}
	return a
}

// acquire lends a free slot; ok is false when none is free or the arena
// is closed. A successful acquire must be followed by release or poison.
func (a *arena) acquire() (slot int, ok bool) {
	a.mu.RLock()
	if a.closed {
		a.mu.RUnlock()
		return 0, false
	}
	select {
	case s := <-a.free:
		return s, true
	default:
		a.mu.RUnlock()
		return 0, false
	}
}

// release returns a slot.
func (a *arena) release(slot int) {
	a.free <- slot
	a.mu.RUnlock()
}

// poison gives up a slot the plugin may still write to (a call that failed
// or was cancelled): it is never lent again.
func (a *arena) poison(int) { a.mu.RUnlock() }

// use holds the arena mapped (plugin side, which does not lend slots);
// false when it is closed. A true use must be followed by done.
func (a *arena) use() bool {
	a.mu.RLock()
	if a.closed {
		a.mu.RUnlock()
		return false
	}
	return true
}

// done ends a use.
func (a *arena) done() { a.mu.RUnlock() }

// slot returns the bytes of slot s.
func (a *arena) slot(s int) []byte { return a.mem[s*a.slotSize : (s+1)*a.slotSize] }

// close unmaps the arena once no slot is in use.
func (a *arena) close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	a.closed = true
	return unmap(a.mem)
}

// readFloats copies count float32 values at byte off of slot into a new
// slice, checking the bounds.
func readFloats(slot []byte, off uint64, count uint32) ([]float32, error) {
	n := uint64(count) * 4
	if off%4 != 0 || off > uint64(len(slot)) || n > uint64(len(slot))-off {
		return nil, fmt.Errorf("shared-memory distribution at %d+%d bytes outside the %d-byte slot", off, n, len(slot))
	}
	out := make([]float32, count)
	if count > 0 {
		copy(out, unsafe.Slice((*float32)(unsafe.Pointer(&slot[off])), count))
	}
	return out, nil
}

// writeFloats copies v into slot at *cursor and advances it; ok is false
// (nothing written) when v does not fit.
func writeFloats(slot []byte, cursor *int, v []float32) (off int, ok bool) {
	n := len(v) * 4
	if len(v) == 0 || *cursor+n > len(slot) {
		return 0, false
	}
	off = *cursor
	copy(unsafe.Slice((*float32)(unsafe.Pointer(&slot[off])), len(v)), v)
	*cursor += n
	return off, true
}
