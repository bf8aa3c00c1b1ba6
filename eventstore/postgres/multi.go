package postgres

import (
	"context"
	"fmt"

	"github.com/bizcenter/bizcenter/eventstore"
)

var _ eventstore.MultiStreamAppender = (*Store)(nil)

// AppendStreams implements eventstore.MultiStreamAppender in one round
// trip and one transaction (append_streams, migration 019).
func (s *Store) AppendStreams(ctx context.Context, appends []eventstore.StreamAppend) ([]eventstore.AppendResult, error) {
	if len(appends) == 0 {
		return nil, fmt.Errorf("append to no stream")
	}
	n := len(appends)
	streams, expects, expecteds, counts := make([]string, n), make([]string, n), make([]int64, n), make([]int32, n)
	var cols appendArgs
	seen := make(map[string]bool, n)
	for i, a := range appends {
		if err := eventstore.CheckAppend(a.Stream, a.Events); err != nil {
			return nil, err
		}
		if seen[a.Stream] {
			return nil, fmt.Errorf("append to %s twice in one call", a.Stream)
		}
		seen[a.Stream] = true
		streams[i], counts[i] = a.Stream, int32(len(a.Events))
		expects[i], expecteds[i] = expectation(a.Expected)
		cols.add(a.Events)
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
