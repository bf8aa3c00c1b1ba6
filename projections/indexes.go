package projections

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ReadIndexes is a Versioned projector whose plain secondary indexes
// (CREATE INDEX, one statement a line in its Schema) serve readers only:
// its writes find rows by primary key or unique constraint. A rebuild
// then creates those indexes once, when it has caught up, instead of
// keeping them row by row from the start of the log: for the users read
// model they were a third of a cold pass's time.
type ReadIndexes interface {
	Versioned
	IndexesServeReadsOnly()
}

// indexesApart splits p's Schema into the statements a new build starts
// with and the indexes it may create once it has caught up ("" when p is
// not ReadIndexes).
func indexesApart(p Versioned) (tables, indexes string) {
	if _, ok := p.(ReadIndexes); !ok {
		return p.Schema(), ""
	}
	var keep, later []string
	inBody := false // inside a $$-quoted function body
	for _, line := range strings.Split(p.Schema(), "\n") {
		s := strings.TrimSpace(line)
		if !inBody && strings.HasPrefix(s, "CREATE INDEX ") && strings.HasSuffix(s, ";") {
			later = append(later, s)
			continue
		}
		if strings.Count(line, "$$")%2 == 1 {
			inBody = !inBody
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n"), strings.Join(later, "\n")
}

// createIndexes creates a build's deferred indexes in one transaction.
func createIndexes(ctx context.Context, pool *pgxpool.Pool, schema, indexes string) error {
	if indexes == "" {
		return nil
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+pgx.Identifier{schema}.Sanitize()+`, public`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, indexes); err != nil {
			return fmt.Errorf("create the indexes of %s: %w", schema, err)
		}
		return nil
	})
}
