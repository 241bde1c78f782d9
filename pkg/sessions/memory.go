package sessions

import (
	"context"
	"sync"
	"time"
)

// Memory is the in-process Store for dev mode and tests. Expiry follows
// the injected clock.
type Memory struct {
	now func() time.Time

	mu      sync.Mutex
	values  map[string]memValue
	counter map[string]memCounter
	ops     int
}

type memValue struct {
	v       []byte
	expires time.Time
}

type memCounter struct {
	n       int64
	expires time.Time
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-process store using clock now (nil: time.Now).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, values: map[string]memValue{}, counter: map[string]memCounter{}}
}

// sweep drops expired entries now and then so that memory stays bounded;
// the caller holds m.mu.
func (m *Memory) sweep(now time.Time) {
	m.ops++
	if m.ops%1024 != 0 {
		return
	}
	for k, v := range m.values {
		if !now.Before(v.expires) {
			delete(m.values, k)
		}
	}
	for k, c := range m.counter {
		if !now.Before(c.expires) {
			delete(m.counter, k)
		}
	}
}

// Put implements Store.
func (m *Memory) Put(_ context.Context, key string, value []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.sweep(now)
	m.values[key] = memValue{v: append([]byte(nil), value...), expires: now.Add(ttl)}
	return nil
}

func (m *Memory) get(key string, take bool) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.values[key]
	if !ok || !m.now().Before(v.expires) {
		delete(m.values, key)
		return nil, ErrNotFound
	}
	if take {
		delete(m.values, key)
	}
	return append([]byte(nil), v.v...), nil
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, key string) ([]byte, error) { return m.get(key, false) }

// Take implements Store.
func (m *Memory) Take(_ context.Context, key string) ([]byte, error) { return m.get(key, true) }

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.values, key)
	return nil
}

// Hit implements Store.
func (m *Memory) Hit(_ context.Context, key string, window time.Duration) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.sweep(now)
	c, ok := m.counter[key]
	if !ok || !now.Before(c.expires) {
		c = memCounter{expires: now.Add(window)}
	}
	c.n++
	m.counter[key] = c
	return c.n, nil
}

// Ping implements Store.
func (m *Memory) Ping(context.Context) error { return nil }
