package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/audit"
)

// exportBound reads a bound of the export: an RFC 3339 time, or a date
// (2026-05-01), its midnight UTC, as an auditor asking for a month types it.
func exportBound(v string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, v)
}

// auditExport runs `bizcenter audit export [--from T] [--to T] [--account ID] [--out FILE]`.
func auditExport(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("audit export", flag.ContinueOnError)
	from := fs.String("from", "", "first occurredAt to include (RFC 3339, or a date: its midnight UTC)")
	to := fs.String("to", "", "occurredAt to stop before (RFC 3339, or a date: its midnight UTC)")
	account := fs.String("account", "", "only events naming this account")
	outPath := fs.String("out", "", "file to write (default: standard output)")
	c, err := loadConfig(fs, args)
	if err != nil {
		return err
	}
	var opts audit.ExportOptions
	var errs []error
	for _, f := range []struct {
		v   string
		dst *time.Time
		n   string
	}{{*from, &opts.From, "--from"}, {*to, &opts.To, "--to"}} {
		if f.v != "" {
			if *f.dst, err = exportBound(f.v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", f.n, err))
			}
		}
	}
	if *account != "" {
		if opts.AccountID, err = uuid.Parse(*account); err != nil {
			errs = append(errs, fmt.Errorf("--account: %w", err))
		}
	}
	// As GET /v1/audit/events refuses it: swapped bounds would export
	// nothing and say it did well.
	if !opts.From.IsZero() && !opts.To.IsZero() && opts.To.Before(opts.From) {
		errs = append(errs, errors.New("--to: before --from"))
	}
	if fs.NArg() > 0 {
		// Else `audit export log.jsonl` would write to standard output,
		// and the flags after the name (--account) would go unread: the
		// flag package stops at the first argument.
		errs = append(errs, fmt.Errorf("audit export: unexpected %q (a file is named with --out)", fs.Arg(0)))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// The file is made before anything connects: a directory that is not
	// there, or not writable, costs no connection and runs no migration.
	out, finish := io.Writer(stdout), func(err error) error { return err }
	left := "what was written to standard output is the export's beginning only"
	if *outPath != "" {
		f, err := newExportFile(*outPath)
		if err != nil {
			return err
		}
		out, finish = f, f.finish
		left = fmt.Sprintf("nothing was written to %s", *outPath)
		if f.path == "" {
			left = fmt.Sprintf("what was written to %s is the export's beginning only", *outPath)
		}
	}
	tools, err := c.openTools(ctx, log)
	if err != nil {
		return finish(err)
	}
	defer tools.Close()
	bar := newProgress(stderr)
	opts.Progress = func(read, written int64) { bar.update(read, 0) }
	n, err := audit.Export(ctx, tools.Store, out, opts)
	bar.done()
	if err = finish(err); err != nil {
		return interrupted(ctx, err, left)
	}
	fmt.Fprintf(stderr, "exported %d events\n", n)
	return nil
}

// exportFile is an export being written beside the file it is to be, and
// put in its place only whole: a prefix of an export verifies (every
// chain in it holds), so an export cut short must not be left under the
// name an auditor expects to find a whole one at.
//
// A FILE that is no regular file (a pipe: --out >(gzip > log.jsonl.gz), a
// FIFO, /dev/stdout) is written to as it is, as before: there is no name
// to take, and nothing can be created beside /dev/fd/63. A symlink to a
// file is followed: the export takes the place of the file it names, and
// the link stays. A file that was there keeps its permissions.
type exportFile struct {
	*os.File
	path string // "" when written in place
}

func newExportFile(path string) (exportFile, error) {
	info, err := os.Stat(path)
	if err == nil && !info.Mode().IsRegular() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		return exportFile{f, ""}, err
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.partial")
	if err == nil && info != nil {
		if err = f.Chmod(info.Mode().Perm()); err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}
	return exportFile{f, path}, err
}

// finish puts the export in its place after the export's err (nil: it
// ended), or removes it.
func (f exportFile) finish(err error) error {
	if f.path == "" {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), f.path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// auditImport runs `bizcenter audit import [--in FILE]` into an empty store,
// refusing an export whose hash chains do not hold.
func auditImport(ctx context.Context, args []string, stdin io.Reader, stderr io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("audit import", flag.ContinueOnError)
	inPath := fs.String("in", "", "file to read (default: standard input)")
	c, err := loadConfig(fs, args)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		// Else `audit import log.jsonl` would read standard input, and
		// say it imported what that held (nothing, from a script).
		return fmt.Errorf("audit import: unexpected %q (a file is named with --in)", fs.Arg(0))
	}
	// The file is opened and checked before anything connects: a
	// mistyped name or a tampered file costs no connection, and runs no
	// migration.
	in := stdin
	if *inPath != "" {
		f, err := os.Open(*inPath)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := verifyFirst(f, *inPath); err != nil {
			return err
		}
		in = f
	}
	tools, err := c.openTools(ctx, log)
	if err != nil {
		// A Ctrl-C while the file was verified ends here.
		return interrupted(ctx, err, "nothing was imported")
	}
	defer tools.Close()
	bar := newProgress(stderr)
	n, err := audit.Import(ctx, tools.Store, in, func(done int64) { bar.update(done, 0) })
	bar.done()
	err = interrupted(ctx, err, "the events imported so far stay in the store; import the same export again to add the rest")
	if err == nil {
		// n counts the export's events, not the appends: an import run
		// again, or into the database exported, appends none of them.
		fmt.Fprintf(stderr, "the export's %d events are in the store (those already there, by id and revision, were left as they were); rebuild the read models with `bizcenter projections rebuild NAME`\n", n)
	}
	return err
}

// verifyFirst verifies an export file whole before it is imported, so
// that a tampered one writes nothing. A pipe (--in <(zcat …)) cannot be
// read twice: like standard input, Import checks it as it reads and stops
// at the first break.
func verifyFirst(f *os.File, path string) error {
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return err
	}
	broken, err := audit.VerifyExport(f, io.Discard)
	if err != nil {
		return err
	}
	if len(broken) > 0 {
		return fmt.Errorf("%s is not intact, nothing imported: %d streams broken, the first at %s (bizcenter audit verify --in %[1]s names each)",
			path, len(broken), broken[0])
	}
	_, err = f.Seek(0, io.SeekStart)
	return err
}
