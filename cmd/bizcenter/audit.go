package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/bizcenter/bizcenter/audit"
)

// auditCmd runs `bizcenter audit verify|export|import`.
func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	if len(args) > 0 {
		switch args[0] {
		case "verify":
			return auditVerify(ctx, args[1:], stdout, log)
		case "export":
			return auditExport(ctx, args[1:], stdout, stderr, log)
		case "import":
			return auditImport(ctx, args[1:], os.Stdin, stderr, log)
		}
	}
	return errors.New("usage: bizcenter audit verify | export [--from T] [--to T] [--account ID] [--out FILE] | import [--in FILE]")
}

// auditVerify checks every stream's hash chain, printing each stream's
// first break, and fails if there is any.
func auditVerify(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	c, err := loadConfig(flag.NewFlagSet("audit verify", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	tools, err := c.openTools(ctx, log)
	if err != nil {
		return err
	}
	defer tools.Close()
	broken, err := audit.Verify(ctx, tools.Store, stdout)
	if err == nil && len(broken) > 0 {
		err = fmt.Errorf("verification failed for %d streams", len(broken))
	}
	return err
}
