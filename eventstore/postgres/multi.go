package postgres

import (
	"context"
	"fmt"

	"github.com/bizcenter/bizcenter/eventstore"
)

var _ eventstore.MultiStreamAppender = (*Store)(nil)

// AppendStreams implements eventstore.MultiStreamAppender in one round
// trip and one transaction: alone (append_streams, migration 019), or
// together with others' appends that waited for a writer (append_groups;
// see group.go).
func (s *Store) AppendStreams(ctx context.Context, appends []eventstore.StreamAppend) ([]eventstore.AppendResult, error) {
	if len(appends) == 0 {
		return nil, fmt.Errorf("append to no stream")
	}
	seen := make(map[string]bool, len(appends))
	for _, a := range appends {
		if err := eventstore.CheckAppend(a.Stream, a.Events); err != nil {
			return nil, err
		}
		if seen[a.Stream] {
			return nil, fmt.Errorf("append to %s twice in one call", a.Stream)
		}
		seen[a.Stream] = true
	}
	return s.commit(newPending(ctx, appends, false))
}

// appendStreams is AppendStreams in a transaction of its own.
func (s *Store) appendStreams(ctx context.Context, appends []eventstore.StreamAppend, cols appendArgs) ([]eventstore.AppendResult, error) {
	n := len(appends)
	streams, expects, expecteds, counts := make([]string, n), make([]string, n), make([]int64, n), make([]int32, n)
	for i, a := range appends {
		streams[i], counts[i] = a.Stream, int32(len(a.Events))
		expects[i], expecteds[i] = expectation(a.Expected)
	}
	defer s.appendInFlight()()

	rows, err := s.pool.Query(ctx,
		`SELECT outcome, revision, commit_pos, prepare_pos FROM append_streams($1, $2, $3, $4, $5, $6, $7, $8)`,
		streams, expects, expecteds, counts, cols.ids, cols.types, cols.data, cols.meta)
	if err != nil {
		return nil, fmt.Errorf("append to %v: %w", streams, err)
	}
	defer rows.Close()
	results := make([]eventstore.AppendResult, 0, n)
	var conflict error
	for i := 0; rows.Next(); i++ {
		var outcome string
		var revision, commit, prepare *int64
		if err := rows.Scan(&outcome, &revision, &commit, &prepare); err != nil {
			return nil, fmt.Errorf("append to %v: %w", streams, err)
		}
		switch outcome {
		case "ok":
			results = append(results, eventstore.AppendResult{
				NextRevision: uint64(*revision),
				Position:     eventstore.Position{Commit: uint64(*commit), Prepare: uint64(*prepare)},
			})
		case "conflict":
			if conflict == nil {
				conflict = &eventstore.WrongExpectedRevisionError{Stream: streams[i], Expected: appends[i].Expected, Actual: revisionOf(revision)}
			}
		}
	}
	err = rows.Err()
	if isStoredElsewhere(err) {
		return nil, s.storedElsewhere(ctx, appends[0].Stream, appends[0].Expected)
	}
	if err != nil {
		return nil, fmt.Errorf("append to %v: %w", streams, err)
	}
	if conflict != nil {
		return nil, conflict
	}
	return results, nil
}

// revisionOf is a stream's last revision as append_events and
// append_streams answer it (NULL: no events).
func revisionOf(r *int64) *uint64 {
	if r == nil {
		return nil
	}
	a := uint64(*r)
	return &a
}

// appendGroups writes a batch of callers' appends in one transaction
// (append_groups, migration 022) and tells which were written; the
// written ones have their results. Their streams all differ (take).
func (s *Store) appendGroups(ctx context.Context, batch []*pending) ([]bool, error) {
	var groups, counts []int32
	var streams, expects []string
	var expecteds []int64
	var cols appendArgs
	for g, p := range batch {
		for _, a := range p.appends {
			expect, rev := expectation(a.Expected)
			groups, streams, counts = append(groups, int32(g+1)), append(streams, a.Stream), append(counts, int32(len(a.Events)))
			expects, expecteds = append(expects, expect), append(expecteds, rev)
		}
		cols.ids, cols.types = append(cols.ids, p.cols.ids...), append(cols.types, p.cols.types...)
		cols.data, cols.meta = append(cols.data, p.cols.data...), append(cols.meta, p.cols.meta...)
	}
	defer s.appendInFlight()()

	rows, err := s.pool.Query(ctx,
		`SELECT outcome, revision, commit_pos, prepare_pos FROM append_groups($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		groups, streams, expects, expecteds, counts, cols.ids, cols.types, cols.data, cols.meta)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	written := make([]bool, len(batch))
	for i := range written {
		written[i] = true
	}
	results := make([][]eventstore.AppendResult, len(batch))
	for i := 0; rows.Next(); i++ {
		var outcome string
		var revision, commit, prepare *int64
		if err := rows.Scan(&outcome, &revision, &commit, &prepare); err != nil {
			return nil, err
		}
		g := groups[i] - 1
		if outcome != "ok" {
			written[g] = false
			continue
		}
		results[g] = append(results[g], eventstore.AppendResult{
			NextRevision: uint64(*revision),
			Position:     eventstore.Position{Commit: uint64(*commit), Prepare: uint64(*prepare)},
		})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for g, p := range batch {
		p.results = results[g]
	}
	return written, nil
}
