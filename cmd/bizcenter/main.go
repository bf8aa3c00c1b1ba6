// Command bizcenter is the whole service in one binary:
//
//	bizcenter serve [--demo]   command API, projectors, read API and mailer
//	bizcenter migrate          apply database migrations
//	bizcenter projections ...  rebuild, verify or show the read models
//	bizcenter token ...        mint a dev token
//	bizcenter audit ...        verify, export or import the audit log
//	bizcenter version
//
// docs/operations.md explains each command and flag.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/bizcenter/bizcenter/service"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	service.TuneGC()
	ctx, stop := signalled()
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bizcenter:", err)
		os.Exit(exitCode(err))
	}
}

// couldNotCheck is the error of a check (a verify) that could not run,
// as opposed to one that ran and found something: it exits with 2, a
// finding with 1, so that a script tells tampering or a differing row
// from a lost connection, as with diff.
type couldNotCheck struct{ error }

func (c couldNotCheck) Unwrap() error { return c.error }

func exitCode(err error) int {
	var s stopped
	switch {
	case errors.As(err, &s):
		return 128 + int(s.signal)
	case errors.As(err, new(couldNotCheck)):
		return 2
	}
	return 1
}

// stopped is a command cut short by an interrupt (Ctrl-C, SIGTERM). It
// says what the command left behind, where the work cut short would only
// say how it broke off ("conn closed", "context canceled"), and exits as
// a shell reports a command that signal ended: 130 for SIGINT, 143 for
// SIGTERM.
type stopped struct {
	left   string
	signal syscall.Signal
}

func (s stopped) Error() string { return "interrupted: " + s.left }

// interrupted is err, or what the command left (stopped) when err came
// of an interrupt. A context ended by anything but a signal (signalled)
// counts as SIGINT.
func interrupted(ctx context.Context, err error, left string) error {
	if err != nil && ctx.Err() != nil {
		s := stopped{left: left, signal: syscall.SIGINT}
		var by interrupt
		if errors.As(context.Cause(ctx), &by) {
			s.signal = by.Signal
		}
		return s
	}
	return err
}

// interrupt is the cause of a context that SIGINT or SIGTERM ended.
type interrupt struct{ syscall.Signal }

func (s interrupt) Error() string { return "received " + s.Signal.String() }

// signalled is a context that the first SIGINT or SIGTERM ends, with the
// signal as its cause. A second one then ends the process at once, as
// it would have without this handler.
func signalled() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-sigs:
			signal.Stop(sigs)
			cancel(interrupt{sig.(syscall.Signal)})
		case <-ctx.Done():
		}
	}()
	return ctx, func() { signal.Stop(sigs); cancel(nil) }
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return fmt.Errorf("name a command")
	}
	err := dispatch(ctx, args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		// A command's -h or --help: the flag package printed its flags,
		// which were asked for, so it is no mistake (exit 0, as help).
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, log)
	case "migrate":
		return migrate(ctx, args[1:], log)
	case "projections":
		return projectionsCmd(ctx, args[1:], stdout, stderr, log)
	case "audit":
		return auditCmd(ctx, args[1:], stdout, stderr, log)
	case "token":
		return token(args[1:], stdout)
	case "version":
		return printVersion(args[1:], stdout)
	default:
		if isHelp(args[0]) {
			usage(stdout)
			return nil
		}
		usage(stderr)
		return fmt.Errorf("no such command %q", args[0])
	}
}

// printVersion runs `bizcenter version`, which takes no flag: its -h
// says so and exits 0, as every command's does, where it was refused as
// an argument (exit 1).
func printVersion(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noArgument(fs); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "bizcenter", version)
	return nil
}

// isHelp says whether arg asks for help, as the top level and the
// command groups (projections, audit) take it: asked for, it is no
// mistake, and the usage goes to standard output with exit 0.
func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

func usage(w io.Writer) {
	fmt.Fprintln(w, `usage: bizcenter serve [--demo] | migrate | version
       | projections status | projections rebuild [--roll-back] NAME | projections verify NAME
       | projections dead-letters | projections retry [--by WHO] NAME ID | projections skip --reason WHY [--by WHO] NAME ID
       | audit verify [--in FILE | --against FILE] | audit export [--from T] [--to T] [--account ID] [--out FILE] | audit import [--in FILE]
       | token --subject ID [--email EMAIL] [--operator] [--ttl 1h] | help

Configuration comes from the environment; the flags --database-url, --eventstore-url,
--http-addr, --mail-dir, --oidc-issuer and --oidc-audience override theirs:
  DATABASE_URL          PostgreSQL for read models (and events, unless EVENTSTORE_URL)
  EVENTSTORE_URL        esdb://... to keep events in EventStoreDB
  EVENTSTORE_MAX_APPEND_SIZE  that server's MaxAppendSize in bytes, if not its default 1 MiB
  HTTP_ADDR             listen address (default :8080)
  PUBLIC_URL            base URL in emails (default http://localhost:8080)
  MAIL_DIR              write emails as .eml files here, created at start (default .data/mail)
  SMTP_ADDR, SMTP_FROM, SMTP_USERNAME, SMTP_PASSWORD   send emails by SMTP instead
  BIZCENTER_JWT_SECRET  HS256 secret of bearer tokens (required)
  OIDC_ISSUER, OIDC_AUDIENCE  also accept access tokens of this OpenID Connect issuer (both or neither)
  OIDC_EMAILS_VERIFIED  true: the issuer's emails are all verified (default: only email_verified true counts)
  BIZCENTER_INVITATION_KEY  key of invitation tokens (default: derived from the JWT secret)
  PUBLISH_TRANSPORT, PUBLISH_URL, PUBLISH_TOPIC  publish events downstream (docs/integration.md)
  OTEL_EXPORTER_OTLP_ENDPOINT  export traces over OTLP/HTTP to this endpoint
  PROJECTION_STALL_AFTER  how long a projector may sit still while the log moves before it is stalled (default 30s)
  BIZCENTER_WEBHOOKS_ALLOW_PRIVATE  true: webhooks may go to loopback and private addresses, for demos and tests only
  BIZCENTER_NOW         fix "now" (RFC 3339), for demos and tests only
  BIZCENTER_NOW_OFFSET  shift "now" by a duration (e.g. 1440h), for demos and tests only
Only migrate and serve apply pending migrations; the other commands that connect
(all but token, version, help and audit verify --in) migrate a new database and
refuse one an older release migrated.
docs/operations.md explains each command and flag.`)
}
