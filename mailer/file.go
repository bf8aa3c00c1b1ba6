package mailer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// FileSender is the development mail sink: each message becomes one
// RFC 5322 .eml file in Dir. Names sort by the time of writing
// ("20250102T150405.123456789Z-000001-1f2e3d4c.eml"), and a file appears
// whole or not at all (written aside, then renamed).
type FileSender struct {
	Dir string
}

var _ Sender = FileSender{}

// MakeDir creates Dir, with its parents, when missing: a sender started
// without it would fail every message while the service looked ready.
func (s FileSender) MakeDir() error {
	if err := os.MkdirAll(s.Dir, 0o750); err != nil {
		return fmt.Errorf("mail directory: %w", err)
	}
	return nil
}

// fileSeq orders the files one process writes within one nanosecond.
var fileSeq atomic.Uint64

// Send implements Sender.
func (s FileSender) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	raw, err := m.Bytes()
	if err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%06d-%s.eml",
		time.Now().UTC().Format("20060102T150405.000000000Z"), fileSeq.Add(1)%1e6, randomHex(4))
	tmp, err := os.CreateTemp(s.Dir, ".mail-*.tmp")
	if err != nil {
		return fmt.Errorf("mail file: %w", err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	err = writeSynced(tmp, raw)
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(s.Dir, name))
	}
	if err != nil {
		return fmt.Errorf("mail file %s: %w", name, err)
	}
	return nil
}

// writeSynced writes data to f, flushes it to disk and closes f.
func writeSynced(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}
