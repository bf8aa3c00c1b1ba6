package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for migrations

	"github.com/bizcenter/bizcenter/httpapi/auth"
	"github.com/bizcenter/bizcenter/mailer"
	"github.com/bizcenter/bizcenter/migrations"
	"github.com/bizcenter/bizcenter/service"
	"github.com/bizcenter/bizcenter/tracing"
)

func serve(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	demo := fs.Bool("demo", false, "create the demo account if missing and print what to try")
	c, err := loadConfig(fs, args)
	if err == nil {
		err = noArgument(fs)
	}
	if err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	clk, _ := c.clock(log)
	hooks, _ := c.webhooks(log) // validated with the rest
	c.warnDevSecret(log)
	if c.OTLPEndpoint != "" {
		shutdown, err := tracing.SetupOTLP(ctx, c.OTLPEndpoint)
		if err != nil {
			return fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
		}
		defer shutdown(context.WithoutCancel(ctx)) //nolint:errcheck // best effort at exit
	}
	var sender mailer.Sender
	if c.SMTPAddr != "" {
		relay := &mailer.SMTPSender{Addr: c.SMTPAddr, From: c.SMTPFrom, Username: c.SMTPUsername, Password: c.SMTPPassword}
		// Deferred before svc.Close, so it runs after the mailer stopped.
		defer relay.Close() //nolint:errcheck // best effort at exit
		sender = relay
	} else {
		files := mailer.FileSender{Dir: c.MailDir}
		if err := files.MakeDir(); err != nil {
			return fmt.Errorf("MAIL_DIR: %w", err)
		}
		sender = files
	}
	// The address is taken first: one in use (another instance, say) is
	// refused before this process migrates, leads projectors or sends
	// mail. Connections wait in the listen queue until Serve.
	l, err := net.Listen("tcp", c.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR: %w", err)
	}
	defer l.Close()
	maxAppend, _ := c.maxAppendSize() // validated with the rest
	stallAfter, _ := c.stallAfter()
	svc, err := service.New(ctx, service.Config{
		DatabaseURL: c.DatabaseURL, EventStoreURL: c.EventStoreURL, MaxAppendSize: maxAppend,
		JWTSecret: []byte(c.JWTSecret), InvitationKey: c.invitationKey(),
		OIDCIssuer: c.OIDCIssuer, OIDCAudience: c.OIDCAudience, OIDCEmailsVerified: c.OIDCEmailsVerified == "true",
		Clock: clk, Mail: sender, MailFrom: c.SMTPFrom, PublicURL: c.PublicURL, Log: log,
		Integration: service.IntegrationConfig{Publish: c.Publish, Webhooks: hooks}, StallAfter: stallAfter,
	})
	if err != nil {
		return err
	}
	defer svc.Close()
	log.Info("serving", "addr", l.Addr().String(), "events", storeName(c))
	if *demo {
		if err := service.SeedDemo(ctx, svc, []byte(c.JWTSecret), c.invitationKey(), stdout, l.Addr().String()); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	return svc.Serve(ctx, l)
}

func storeName(c config) string {
	if c.EventStoreURL != "" {
		return "eventstoredb"
	}
	return "postgresql"
}

func migrate(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	c, err := loadConfig(fs, args)
	if err == nil {
		err = noArgument(fs)
	}
	if err != nil {
		return err
	}
	if c.DatabaseURL == "" {
		return errors.New("DATABASE_URL is required")
	}
	db, err := sql.Open("pgx", c.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := migrations.Up(ctx, db); err != nil {
		return err
	}
	database, binary, err := migrations.Versions(ctx, db)
	if err != nil {
		return err
	}
	if database > binary {
		log.Warn("the database was migrated by a newer release: nothing to apply, and this release runs beside it as in a rolling deploy",
			"database", database, "binary", binary)
		return nil
	}
	log.Info("migrations applied", "version", database)
	return nil
}

func token(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	subject := fs.String("subject", "", "the principal's id (sub)")
	email := fs.String("email", "", "the principal's email")
	operator := fs.Bool("operator", false, "an operator of the service")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noArgument(fs); err != nil {
		return err
	}
	secret := os.Getenv("BIZCENTER_JWT_SECRET")
	var errs []error
	if *subject == "" {
		errs = append(errs, errors.New("--subject is required"))
	}
	if len(secret) < 16 {
		errs = append(errs, errors.New("BIZCENTER_JWT_SECRET is required, at least 16 characters"))
	}
	if *ttl <= 0 {
		errs = append(errs, errors.New("--ttl must be positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	t, err := auth.Mint([]byte(secret), *subject, *email, *operator, *ttl, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, t)
	return nil
}

// noArgument refuses what is left after a command's flags: a command
// that takes none would otherwise run without a word about it (a flag
// mistyped without its dashes, say).
func noArgument(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("%s takes no argument, not %q", fs.Name(), fs.Arg(0))
	}
	return nil
}
