package postgres

import "context"

// Count is how many events the store holds (for progress bars). It is an
// estimate from the planner's statistics when the table is large, exact
// when small.
func (s *Store) Count(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `
		SELECT CASE WHEN reltuples > 100000 THEN reltuples::bigint
		            ELSE (SELECT count(*) FROM events) END
		  FROM pg_class WHERE oid = 'events'::regclass`).Scan(&n)
	return n, err
}
