// Package logbuf is a log's output kept in memory for a test to read,
// written by the goroutines of an engine or a consumer as it runs.
package logbuf

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer safe to write and read from several
// goroutines.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is what was written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
