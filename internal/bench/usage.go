package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// cpuMark is a moment's CPU counters: this process's and the machine's.
type cpuMark struct {
	at          time.Time
	self        time.Duration
	busy, total uint64 // jiffies of the machine, all CPUs
}

func markCPU() cpuMark {
	m := cpuMark{at: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		m.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		for i, f := range strings.Fields(line)[1:] {
			var v uint64
			fmt.Sscan(f, &v)
			m.total += v
			if i != 3 && i != 4 { // idle, iowait
				m.busy += v
			}
		}
	}
	return m
}

// report says how busy this process and the machine were since m: cores
// used by this process (the bench and the in-process service), and the
// share of all CPUs busy (PostgreSQL, and whatever else runs).
func (m cpuMark) report(what string) {
	now := markCPU()
	wall := now.at.Sub(m.at)
	machine := 100 * float64(now.busy-m.busy) / float64(max(1, now.total-m.total))
	fmt.Fprintf(os.Stderr, "%s: this process %.2f cores, machine %.0f%% busy (load average %s)\n",
		what, (now.self-m.self).Seconds()/wall.Seconds(), machine, LoadAverage())
}

// LoadAverage is the machine's load average over 1, 5 and 15 minutes.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// poolWaits reports, when called, how often acquiring a connection of p
// had to wait since now, and for how long on average.
func poolWaits(p *pgxpool.Pool, what string) func() {
	before := p.Stat()
	return func() {
		after := p.Stat()
		n := after.AcquireCount() - before.AcquireCount()
		waited := after.EmptyAcquireCount() - before.EmptyAcquireCount()
		wait := after.AcquireDuration() - before.AcquireDuration()
		fmt.Fprintf(os.Stderr, "%s: pool of %d, %d acquires, %d waited, mean acquire %v\n",
			what, after.MaxConns(), n, waited, (wait / time.Duration(max(1, n))).Round(time.Microsecond))
	}
}

// dbWork reports, when called with the operations done, what PostgreSQL
// did for p's database since now, per operation: transactions (each
// statement outside a transaction is one) and rows read and written. The
// statistics reach pg_stat_database up to a second late, so it waits.
func dbWork(ctx context.Context, p *pgxpool.Pool, what string) func(ops int) {
	const q = `SELECT xact_commit + xact_rollback, tup_returned + tup_fetched, tup_inserted + tup_updated + tup_deleted
		FROM pg_stat_database WHERE datname = current_database()`
	var before [3]int64
	err := p.QueryRow(ctx, q).Scan(&before[0], &before[1], &before[2])
	return func(ops int) {
		time.Sleep(1100 * time.Millisecond)
		var after [3]int64
		if err != nil || p.QueryRow(ctx, q).Scan(&after[0], &after[1], &after[2]) != nil || ops == 0 {
			return
		}
		per := func(i int) float64 { return float64(after[i]-before[i]) / float64(ops) }
		fmt.Fprintf(os.Stderr, "%s: PostgreSQL per operation: %.1f transactions, %.0f rows read, %.1f rows written\n",
			what, per(0), per(1), per(2))
	}
}
