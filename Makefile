# bizcenter: `make run` for a local service with demo data, `make test` for
# the whole suite against a throwaway PostgreSQL cluster.
SHELL := /bin/bash
GO ?= go
DATA ?= .data
HTTP_ADDR ?= :8080
# Where invitation links point: the service itself unless told otherwise
# (make run HTTP_ADDR=:8081 left them at :8080).
PUBLIC_URL ?= http://$(if $(filter :%,$(HTTP_ADDR)),localhost)$(HTTP_ADDR)
# The port of make run's PostgreSQL cluster (under $(DATA)/pg).
PG_PORT ?= 5544
# A fixed development secret: never use it anywhere real.
DEV_SECRET ?= bizcenter-dev-secret-change-me
TEST_TIMEOUT ?= 9m

.PHONY: run test bench build vet fmt lint postgres clean

build:
	$(GO) build -o bin/bizcenter ./cmd/bizcenter

## run: install PostgreSQL if missing, start a local cluster under .data/, migrate, serve with demo data
run: build
	@url=$$(scripts/postgres.sh start $(DATA)/pg $(PG_PORT)) && \
	  db=$${url%/postgres?*}/bizcenter?sslmode=disable && \
	  { psql "$$url" -tAc "SELECT 1 FROM pg_database WHERE datname='bizcenter'" | grep -q 1 || psql "$$url" -qc 'CREATE DATABASE bizcenter'; } && \
	  mkdir -p $(DATA)/mail && \
	  echo "PostgreSQL: $$db" && \
	  DATABASE_URL=$$db BIZCENTER_JWT_SECRET=$${BIZCENTER_JWT_SECRET:-$(DEV_SECRET)} MAIL_DIR=$(DATA)/mail HTTP_ADDR=$(HTTP_ADDR) \
	    ./bin/bizcenter migrate && \
	  DATABASE_URL=$$db BIZCENTER_JWT_SECRET=$${BIZCENTER_JWT_SECRET:-$(DEV_SECRET)} MAIL_DIR=$(DATA)/mail HTTP_ADDR=$(HTTP_ADDR) PUBLIC_URL=$(PUBLIC_URL) \
	    exec ./bin/bizcenter serve --demo

## test: the whole suite against a throwaway PostgreSQL cluster (fsync off)
test:
	@scripts/test.sh $(TEST_TIMEOUT)

## bench: benchmarks against a throwaway cluster with fsync on, beside raw PostgreSQL baselines
bench:
	@scripts/bench.sh

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w .

postgres:
	@scripts/postgres.sh install

clean:
	rm -rf bin
