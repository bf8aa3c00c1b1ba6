package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bizcenter/bizcenter/projections"
	"github.com/bizcenter/bizcenter/service"
)

// projectionsCmd runs `bizcenter projections ...` (see the usage below).
func projectionsCmd(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	err := projectionsRun(ctx, args, stdout, stderr, log)
	var differ rowsDiffer
	if err != nil && len(args) > 0 && args[0] == "verify" && !errors.As(err, &differ) {
		return couldNotCheck{err}
	}
	return err
}

// rowsDiffer is what a verify found: the rows of a fresh build that
// differ from the live one.
type rowsDiffer struct {
	name  string
	diffs int
}

func (r rowsDiffer) Error() string {
	return fmt.Sprintf("%s: %d rows differ from a fresh build", r.name, r.diffs)
}

const projectionsUsage = "usage: bizcenter projections rebuild [--roll-back] NAME | verify NAME | status | dead-letters | retry [--by WHO] NAME ID | skip --reason WHY [--by WHO] NAME ID"

func projectionsRun(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		return errors.New("name a projections command\n" + projectionsUsage)
	}
	switch args[0] {
	case "status", "dead-letters", "retry", "skip", "rebuild", "verify":
	default:
		if isHelp(args[0]) {
			fmt.Fprintln(stdout, projectionsUsage)
			return nil
		}
		return fmt.Errorf("no such projections command %q\n%s", args[0], projectionsUsage)
	}
	fs := flag.NewFlagSet("projections "+args[0], flag.ContinueOnError)
	reason, by, rollBack := ownFlags(fs, args[0])
	c, err := loadConfig(fs, args[1:])
	if err != nil {
		return err
	}
	// Checked before connecting: a mistake costs no connection, and runs
	// no migration.
	switch args[0] {
	case "status", "dead-letters":
		if fs.NArg() > 0 {
			return fmt.Errorf("projections %s takes no argument, not %q", args[0], fs.Arg(0))
		}
	case "retry", "skip":
		var errs []error
		if fs.NArg() > 2 && strings.HasPrefix(fs.Arg(2), "-") {
			// The flag package stops at NAME: `skip users 42 --reason …`
			// would otherwise say NAME ID and --reason were not given.
			return fmt.Errorf("flags go before the projector's name (%s after %s %s)", fs.Arg(2), fs.Arg(0), fs.Arg(1))
		}
		if fs.NArg() != 2 {
			errs = append(errs, fmt.Errorf("name the projector and the dead letter id: projections %s NAME ID", args[0]))
		} else if _, _, err := deadLetterOf(fs.Args()); err != nil {
			errs = append(errs, err)
		}
		if strings.TrimSpace(*by) == "" {
			errs = append(errs, errors.New("--by WHO is required"+userUnset()))
		} else if who, why := projections.Resolver(*by); why != "" {
			errs = append(errs, fmt.Errorf("--by: %s", why))
		} else {
			*by = who
		}
		if args[0] == "skip" {
			if *reason == "" {
				errs = append(errs, errors.New("--reason WHY is required"))
			} else if r, why := projections.SkipReason(*reason); why != "" {
				errs = append(errs, fmt.Errorf("--reason: %s", why))
			} else {
				*reason = r
			}
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	var p projections.Versioned
	if args[0] == "rebuild" || args[0] == "verify" {
		if fs.NArg() > 1 && strings.HasPrefix(fs.Arg(1), "-") {
			return fmt.Errorf("flags go before the projector's name (%s after %s)", fs.Arg(1), fs.Arg(0))
		}
		if fs.NArg() != 1 {
			return fmt.Errorf("name one projector: %v", service.ProjectorNames())
		}
		var ok bool
		if p, ok = service.Projectors()[fs.Arg(0)]; !ok {
			return fmt.Errorf("no projector %q (there are %v)", fs.Arg(0), service.ProjectorNames())
		}
	}
	tools, err := c.openTools(ctx, log)
	if err != nil {
		return err
	}
	defer tools.Close()
	switch args[0] {
	case "status":
		return printStatus(ctx, tools, stdout)
	case "dead-letters":
		return printDeadLetters(ctx, tools, stdout)
	case "retry", "skip":
		return resolveDead(ctx, tools, projections.Resolution{Skip: args[0] == "skip", By: *by, Reason: *reason}, fs.Args(), stdout)
	}
	bar := newProgress(stderr)
	if args[0] == "rebuild" {
		start := time.Now()
		rebuild := projections.Rebuild
		if *rollBack {
			rebuild = projections.RollBack
		}
		a, err := rebuild(ctx, tools.Pool, tools.Store, p, bar.update)
		bar.done()
		if err != nil {
			left := fmt.Sprintf("the new build of %s was dropped; readers still read what they read before", p.Name())
			if a.Schema != "" { // it switched, then stopped dropping the build before
				left = fmt.Sprintf("%s switched to %s, which readers read; the build before was left for the next build of %[1]s to drop", p.Name(), a.Schema)
			}
			return interrupted(ctx, err, left)
		}
		fmt.Fprintf(stdout, "%s rebuilt in %s and switched to %s\n", p.Name(), time.Since(start).Round(time.Millisecond), a.Schema)
		return nil
	}
	diffs, err := projections.Verify(ctx, tools.Pool, tools.Store, p, stdout, bar.update)
	bar.done()
	if err != nil {
		return interrupted(ctx, err, fmt.Sprintf("the scratch build of %s was dropped before any verdict", p.Name()))
	}
	if diffs > 0 {
		return rowsDiffer{p.Name(), diffs}
	}
	return nil
}

// ownFlags declares the flags of projections command cmd, and only
// those: given to another command, a flag is refused as unknown. Every
// command took all three and ignored those it had no use for, without a
// word: a retry's --reason was recorded nowhere, and verify --roll-back
// verified as ever. The others' stay unset.
func ownFlags(fs *flag.FlagSet, cmd string) (reason, by *string, rollBack *bool) {
	reason, by, rollBack = new(string), new(string), new(bool)
	switch cmd {
	case "skip":
		fs.StringVar(reason, "reason", "", "why the event is skipped (required)")
		fallthrough
	case "retry":
		fs.StringVar(by, "by", os.Getenv("USER"), "who resolves it, recorded with the dead letter (default: $USER)")
	case "rebuild":
		fs.BoolVar(rollBack, "roll-back", false, "rebuild this release's version even over a newer active build (going back to an older release)")
	}
	return reason, by, rollBack
}

// printStatus prints what GET /v1/admin/projections answers, from one
// sample: a stall shows only in the serving instances' monitors, which
// watch the checkpoint over time.
func printStatus(ctx context.Context, t *service.Tools, out io.Writer) error {
	m := projections.NewMonitor(t.Pool, t.Store, time.Minute, service.ProjectorNames()...)
	err := m.Sample(ctx)
	for _, s := range m.Snapshot() {
		if s.Build == "" {
			// No state: nothing runs it to be live, stalled or behind.
			fmt.Fprintf(out, "%s: no build yet (serve makes the first), head %s, %d events (%.1fs) to apply\n",
				s.Name, s.Head, s.LagEvents, s.LagSeconds)
			continue
		}
		fmt.Fprintf(out, "%s: version %d, build %s, checkpoint %s, head %s, %d events (%.1fs) behind, %s",
			s.Name, s.Version, s.Build, s.Checkpoint, s.Head, s.LagEvents, s.LagSeconds, s.State)
		if s.Leader != "" {
			fmt.Fprintf(out, ", led by %s", s.Leader)
		}
		if s.IndexesPending {
			fmt.Fprint(out, ", readers' indexes pending")
		}
		fmt.Fprintln(out)
	}
	return err
}

// userUnset says why --by had no default, when that is why: it said
// "$USER is not set" also to a --by "" given with USER set.
func userUnset() string {
	if os.Getenv("USER") == "" {
		return " ($USER is not set)"
	}
	return ""
}

// progress shows a build's progress: a bar redrawn in place on a terminal,
// a plain line every few seconds otherwise.
type progress struct {
	out      io.Writer
	terminal bool
	start    time.Time
	last     time.Time
	drawn    bool
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	terminal := false
	if ok {
		if st, err := f.Stat(); err == nil {
			terminal = st.Mode()&os.ModeCharDevice != 0
		}
	}
	return &progress{out: w, terminal: terminal, start: time.Now()}
}

func (p *progress) update(done, total int64) {
	now := time.Now()
	if p.terminal && now.Sub(p.last) < 100*time.Millisecond || !p.terminal && now.Sub(p.last) < 2*time.Second {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start).Seconds()
	rate := float64(done) / max(elapsed, 0.001)
	line := fmt.Sprintf("%d events, %.0f ev/s", done, rate)
	if total > done && rate > 0 {
		left := time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second)
		pct := float64(done) / float64(total)
		line = fmt.Sprintf("%s %5.1f%%  %d/%d events  %.0f ev/s  %s left", bar(pct), 100*pct, done, total, rate, left)
	}
	if p.terminal {
		fmt.Fprintf(p.out, "\r\033[K%s", line)
		p.drawn = true
	} else {
		fmt.Fprintln(p.out, line)
	}
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprintln(p.out)
	}
}

func bar(pct float64) string {
	const width = 30
	n := int(pct * width)
	b := make([]byte, width)
	for i := range b {
		b[i] = '.'
		if i < n {
			b[i] = '#'
		}
	}
	return "[" + string(b) + "]"
}

func printDeadLetters(ctx context.Context, t *service.Tools, out io.Writer) error {
	var items []projections.DeadLetter
	var after projections.DeadLetterKey
	for {
		page, more, err := projections.ListDeadLetters(ctx, t.Pool, after, 500)
		if err != nil {
			return err
		}
		items = append(items, page...)
		if !more {
			break
		}
		after = page[len(page)-1].PageKey()
	}
	if len(items) == 0 {
		fmt.Fprintln(out, "no dead letters")
	}
	for _, d := range items {
		fmt.Fprintf(out, "%d\t%s\t%s\t%s %s at %s\t%s", d.ID, d.Projector, d.Status, d.EventType, d.Stream, d.Position, oneLine(d.Error))
		if d.ResolvedBy != nil {
			fmt.Fprintf(out, "\tby %s", oneLine(*d.ResolvedBy))
		}
		if d.ResolvedReason != nil {
			fmt.Fprintf(out, ": %s", oneLine(*d.ResolvedReason))
		}
		fmt.Fprintln(out)
	}
	return nil
}

// oneLine is free text (an error with PostgreSQL's detail lines, a skip's
// reason) on one line, its fields unbroken: a line a letter, for grep
// and cut, where a reason's line breaks began lines of their own.
var oneLine = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ").Replace

// deadLetterOf is the projector and the dead letter id that retry and
// skip name (NAME ID), checked before anything connects.
func deadLetterOf(args []string) (projections.Versioned, int64, error) {
	if len(args) != 2 {
		return nil, 0, errors.New("name the projector and the dead letter id")
	}
	p, ok := service.Projectors()[args[0]]
	if !ok {
		return nil, 0, fmt.Errorf("no projector %q (there are %v)", args[0], service.ProjectorNames())
	}
	id, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil || id <= 0 {
		return nil, 0, fmt.Errorf("dead letter id %q: a number, as projections dead-letters lists", args[1])
	}
	return p, id, nil
}

func resolveDead(ctx context.Context, t *service.Tools, res projections.Resolution, args []string, out io.Writer) error {
	p, id, err := deadLetterOf(args)
	if err != nil {
		return err
	}
	res.ID = id
	done, err := projections.Resolve(ctx, t.Pool, p, res)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "dead letter %d resolved; %d events applied\n", id, done.Applied)
	if done.Parked != 0 {
		return fmt.Errorf("an event that waited behind it failed in its turn and is parked as dead letter %d; the events behind it still wait", done.Parked)
	}
	return nil
}
