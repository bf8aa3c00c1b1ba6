package postgres_test

import (
	"testing"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/conformance"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

func TestPostgresStore_conformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) eventstore.Store {
		return postgres.New(pgtest.Pool(t), postgres.Config{})
	}, conformance.Options{})
}
