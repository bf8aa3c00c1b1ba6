package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
)

// A mistyped flag prints the flags; their defaults must not be the
// environment's values, which may hold a database password.
func TestFlags_do_not_print_the_environment(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://app:S3cret@db.internal/bizcenter")
	t.Setenv("EVENTSTORE_URL", "esdb://admin:S3cret@es:2113")
	var out bytes.Buffer
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(&out)
	if _, err := loadConfig(fs, []string{"--databse-url", "x"}); err == nil {
		t.Fatal("a mistyped flag was taken")
	}
	if strings.Contains(out.String(), "S3cret") {
		t.Fatalf("the usage printed a secret of the environment:\n%s", out.String())
	}
}

// A flag replaces its variable only when given, even with an empty value.
func TestFlags_override_the_environment_only_when_given(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://env/db")
	t.Setenv("HTTP_ADDR", "127.0.0.1:9")
	c, err := loadConfig(flag.NewFlagSet("t", flag.ContinueOnError), []string{"--http-addr", ":7"})
	if err != nil || c.DatabaseURL != "postgres://env/db" || c.HTTPAddr != ":7" {
		t.Fatalf("%+v, %v", c, err)
	}
	c, err = loadConfig(flag.NewFlagSet("t", flag.ContinueOnError), []string{"--database-url="})
	if err != nil || c.DatabaseURL != "" {
		t.Fatalf("an empty --database-url left %q, %v", c.DatabaseURL, err)
	}
}

// help is asked for, not a mistake; an unknown command is named.
func TestHelp_exits_zero_and_an_unknown_command_is_named(t *testing.T) {
	var out bytes.Buffer
	for _, h := range []string{"help", "-h", "--help"} {
		out.Reset()
		if err := run(context.Background(), []string{h}, &out, io.Discard); err != nil || !strings.Contains(out.String(), "usage: bizcenter") {
			t.Errorf("%s: %v, printed %q", h, err, out.String())
		}
	}
	if err := run(context.Background(), []string{"serv"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), `"serv"`) {
		t.Errorf("serv: %v", err)
	}
	// A command that takes no argument names the one it was given,
	// before anything connects.
	t.Setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	t.Setenv("BIZCENTER_JWT_SECRET", strings.Repeat("s", 32))
	for _, args := range [][]string{{"serve", "demo"}, {"migrate", "now"}, {"token", "--subject", "x", "extra"}, {"version", "2"}} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "takes no argument, not \""+args[len(args)-1]+"\"") {
			t.Errorf("%v: %v", args, err)
		}
	}
}

// The projections commands' mistakes are reported before anything
// connects (here to a database that is not there).
func TestProjections_mistakes_are_reported_before_connecting(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	t.Setenv("USER", "")
	for args, want := range map[string][]string{
		"list":                   {`no such projections command "list"`},
		"status extra":           {`takes no argument, not "extra"`},
		"dead-letters 1":         {`takes no argument, not "1"`},
		"retry users":            {"name the projector and the dead letter id", "--by WHO is required"},
		"skip users 1":           {"--by WHO is required", "--reason WHY is required"},
		"skip --by ann users 1":  {"--reason WHY is required"},
		"rebuild":                {"name one projector"},
		"verify users --bogus":   {"flags go before"},
		"verify nope":            {`no projector "nope"`},
		"retry --by ann users 1": {"127.0.0.1:1"}, // well formed: it connects
	} {
		err := projectionsRun(context.Background(), strings.Fields(args), io.Discard, io.Discard, slog.New(slog.DiscardHandler))
		for _, w := range want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("projections %s: %v; want %q", args, err, w)
			}
		}
	}
}

// Each projections command takes its own flags only, and refuses
// another's before it connects: every one took --reason, --by and
// --roll-back, and ignored those it had no use for without a word (a
// retry's --reason recorded nowhere, a verify --roll-back verifying as
// ever), and its -h listed them all.
func TestProjections_commands_refuse_the_flags_of_another(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	t.Setenv("USER", "ann")
	log := slog.New(slog.DiscardHandler)
	for args, flag := range map[string]string{
		"retry --reason r users 1":  "-reason",
		"status --roll-back":        "-roll-back",
		"dead-letters --by ann":     "-by",
		"verify --roll-back users":  "-roll-back",
		"rebuild --reason r users":  "-reason",
		"skip --roll-back users 1":  "-roll-back",
		"verify --by ann users":     "-by",
		"rebuild --by ann users":    "-by",
		"dead-letters --reason why": "-reason",
	} {
		err := projectionsRun(context.Background(), strings.Fields(args), io.Discard, io.Discard, log)
		if err == nil || !strings.Contains(err.Error(), "flag provided but not defined: "+flag) {
			t.Errorf("projections %s: %v; want %s refused before connecting", args, err, flag)
		}
	}
	// Each command's own flags are still taken: these connect.
	for _, args := range []string{"retry users 1", "retry --by bob users 1", "skip --reason r --by bob users 1", "rebuild --roll-back users"} {
		err := projectionsRun(context.Background(), strings.Fields(args), io.Discard, io.Discard, log)
		if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("projections %s: %v; want it to connect", args, err)
		}
	}
}

// A skip's reason is held to the rule the admin route holds it to,
// before anything connects: the command recorded a reason of spaces
// alone, or with a terminal escape, that the route refuses.
func TestProjections_skip_refuses_a_reason_the_route_refuses(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	for reason, want := range map[string]string{
		"   ":                     "--reason: a skip records why",
		"bad \x1b[2J data":        "--reason: contains an invisible or control character",
		strings.Repeat("r", 2001): "--reason: longer than 2000 characters",
	} {
		if refused, err := refusedBeforeConnecting([]string{"skip", "--by", "ann", "--reason", reason, "users", "1"}, want); !refused {
			t.Errorf("skip --reason %.40q: %v; want %q, before connecting", reason, err, want)
		}
	}
}

// refusedBeforeConnecting runs a projections command (DATABASE_URL
// naming a database that is not there) and tells whether it failed with
// want before it tried to connect.
func refusedBeforeConnecting(args []string, want string) (bool, error) {
	err := projectionsRun(context.Background(), args, io.Discard, io.Discard, slog.New(slog.DiscardHandler))
	return err != nil && strings.Contains(err.Error(), want) && !strings.Contains(err.Error(), "127.0.0.1:1"), err
}

// Who resolves a dead letter is held to the rule a name is, before
// anything connects: the command recorded a --by of spaces, or with a
// terminal's escapes that the list of dead letters then printed raw.
func TestProjections_resolve_refuses_a_by_that_is_no_name(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	t.Setenv("USER", "ann")
	for by, want := range map[string]string{
		"":                       "--by WHO is required",
		"   ":                    "--by WHO is required",
		"ann\x1b]0;pwned\x07":    "--by: contains an invisible or control character",
		"ann\nbob":               "--by: contains an invisible or control character",
		strings.Repeat("b", 201): "--by: longer than 200 characters",
	} {
		for _, args := range [][]string{{"retry", "--by", by, "users", "1"}, {"skip", "--by", by, "--reason", "r", "users", "1"}} {
			if refused, err := refusedBeforeConnecting(args, want); !refused || strings.Contains(err.Error(), "USER is not set") {
				t.Errorf("%s --by %.40q: %v; want %q, before connecting", args[0], by, err, want)
			}
		}
	}
}

// serve takes its address before anything else: one in use is named
// before it reaches for the database (here unreachable, and never tried).
func TestServe_refuses_an_address_in_use_first(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	t.Setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	t.Setenv("BIZCENTER_JWT_SECRET", strings.Repeat("s", 32))
	t.Setenv("HTTP_ADDR", taken.Addr().String())
	t.Setenv("MAIL_DIR", t.TempDir())
	err = run(context.Background(), []string{"serve"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "HTTP_ADDR") || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("serve on a taken address: %v", err)
	}
}

// A retry or skip of a projector that is not there, or of an id that is
// no number, is a mistake reported before anything connects, as the
// other projections commands' are: it connected, and so migrated the
// database, before it said so. A flag after NAME ID is named as such.
func TestProjections_retry_and_skip_check_the_name_and_id_before_connecting(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	for args, want := range map[string]string{
		"retry --by ann nope 1":              `no projector "nope"`,
		"retry --by ann users abc":           `dead letter id "abc"`,
		"skip --by ann --reason r users 0":   `dead letter id "0"`,
		"skip --by ann --reason r mailer 12": `no projector "mailer"`,
		// Not "--reason WHY is required", as it said, nor that NAME ID
		// was missing.
		"skip --by ann users 42 --reason r": "flags go before the projector's name (--reason after users 42)",
		"retry users 42 --by ann":           "flags go before",
	} {
		err := projectionsRun(context.Background(), strings.Fields(args), io.Discard, io.Discard, slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("projections %s: %v; want %q, before connecting", args, err, want)
		}
	}
}

// serve names every problem of its configuration at once, before it
// connects: an EVENTSTORE_URL that is no esdb:// URL was named only
// after the database was migrated, and a PUBLIC_URL without a scheme
// (every invitation's link then "bizcenter.example.com/accept?…"), an
// SMTP_ADDR without a port or an SMTP_FROM that is no address (every
// mail then failing), and an OTEL_EXPORTER_OTLP_ENDPOINT without a
// scheme (traces sent elsewhere or nowhere) were taken without a word.
func TestServe_names_a_bad_event_store_public_url_or_smtp_setting_before_connecting(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	t.Setenv("BIZCENTER_JWT_SECRET", strings.Repeat("s", 32))
	t.Setenv("HTTP_ADDR", "127.0.0.1:0")
	t.Setenv("MAIL_DIR", t.TempDir())
	t.Setenv("EVENTSTORE_URL", "eventstoredb:2113")
	t.Setenv("PUBLIC_URL", "bizcenter.example.com")
	t.Setenv("SMTP_ADDR", "smtp.example.com")
	t.Setenv("SMTP_FROM", "Business Center no-reply@example.com")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")
	err := run(context.Background(), []string{"serve"}, io.Discard, io.Discard)
	for _, want := range []string{"EVENTSTORE_URL", "PUBLIC_URL", "SMTP_ADDR", "SMTP_FROM", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("serve: %v; want %s named, before connecting", err, want)
		}
	}
	// What the defaults and the usual values are is still taken.
	for _, good := range []config{
		{PublicURL: "http://localhost:8080"},
		{PublicURL: "https://bizcenter.example.com/app/", EventStoreURL: "esdb+discover://es:2113?tls=false", SMTPAddr: "smtp.example.com:587", SMTPFrom: "Business Center <no-reply@example.com>", OTLPEndpoint: "http://collector:4318"},
	} {
		good.DatabaseURL, good.JWTSecret = "postgres://x/y", strings.Repeat("s", 32)
		if err := good.validate(); err != nil {
			t.Errorf("%+v: %v", good, err)
		}
	}
}

// An EVENTSTORE_URL that is no esdb:// URL stops an operator command
// before it connects, as serve's start: it was named only after the
// command had connected to PostgreSQL and migrated it.
func TestOperator_commands_name_a_bad_EVENTSTORE_URL_before_connecting(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	t.Setenv("EVENTSTORE_URL", "eventstoredb:2113")
	for _, args := range []string{"projections status", "projections rebuild users", "audit verify", "audit export"} {
		err := run(context.Background(), strings.Fields(args), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "EVENTSTORE_URL") || strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("%s: %v; want EVENTSTORE_URL named, before connecting", args, err)
		}
	}
}

// A command's -h prints its flags and exits 0, as help does: it exited
// 1 (2 for a verify) with "flag: help requested", as if it were a
// mistake, and a verify's -h said it could not check.
func TestA_commands_help_flag_exits_zero(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	for _, args := range []string{"serve -h", "migrate --help", "token -h", "version -h", "projections verify -h", "projections status -help", "audit verify -h", "audit export -h"} {
		if err := run(context.Background(), strings.Fields(args), io.Discard, io.Discard); err != nil {
			t.Errorf("%s: %v (exit %d), want exit 0", args, err, exitCode(err))
		}
	}
}

// The help of projections and audit themselves, before a subcommand,
// prints their usage on standard output and exits 0 too: it exited 1,
// with "no such projections command \"-h\"" or the usage as an error. A
// subcommand that is not there is named, as at the top level.
func TestProjections_and_audit_help_exits_zero_and_an_unknown_subcommand_is_named(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	for _, args := range []string{"projections -h", "projections --help", "projections help", "audit -h", "audit -help", "audit help"} {
		var out bytes.Buffer
		if err := run(context.Background(), strings.Fields(args), &out, io.Discard); err != nil || !strings.Contains(out.String(), "usage: bizcenter "+strings.Fields(args)[0]) {
			t.Errorf("%s: %v (exit %d), printed %q; want the usage and exit 0", args, err, exitCode(err), out.String())
		}
	}
	for args, want := range map[string]string{"audit": "name an audit command", "audit check": `no such audit command "check"`, "projections": "name a projections command"} {
		err := run(context.Background(), strings.Fields(args), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "usage: bizcenter") {
			t.Errorf("%s: %v; want %q and the usage", args, err, want)
		}
	}
}
