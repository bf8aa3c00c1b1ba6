package postgres

import "context"

// Count is how many events the store holds (for progress bars). It counts
// them: the planner's estimate, instant, was a quarter short after a bulk
// load that autovacuum had not yet analyzed. A log of a million events is
// counted in well under a second; a rebuild counts beside its build.
func (s *Store) Count(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n)
	return n, err
}
