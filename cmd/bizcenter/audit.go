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

const auditUsage = "usage: bizcenter audit verify [--in FILE | --against FILE] | export [--from T] [--to T] [--account ID] [--out FILE] | import [--in FILE]"

// auditCmd runs `bizcenter audit verify|export|import`.
func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		return errors.New("name an audit command\n" + auditUsage)
	}
	switch args[0] {
	case "verify":
		return auditVerify(ctx, args[1:], stdout, log)
	case "export":
		return auditExport(ctx, args[1:], stdout, stderr, log)
	case "import":
		return auditImport(ctx, args[1:], os.Stdin, stderr, log)
	}
	if isHelp(args[0]) {
		fmt.Fprintln(stdout, auditUsage)
		return nil
	}
	return fmt.Errorf("no such audit command %q\n%s", args[0], auditUsage)
}

// auditVerify checks every stream's hash chain, in the store or, with
// --in, in an export, printing each stream's first break, and fails if
// there is any. With --against, the store must also still hold what an
// earlier export holds (audit.VerifyAgainst).
func auditVerify(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	broken, err := checkAudit(ctx, args, stdout, log)
	if err != nil {
		return couldNotCheck{interrupted(ctx, err, "no verdict")}
	}
	if len(broken) > 0 {
		return fmt.Errorf("verification failed for %d streams", len(broken))
	}
	return nil
}

// checkAudit runs the checks auditVerify asks for, and returns the breaks.
func checkAudit(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) ([]audit.Break, error) {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	inPath := fs.String("in", "", "an export to verify instead of the store")
	against := fs.String("against", "", "an earlier export (a copy kept elsewhere) the store must still hold")
	c, err := loadConfig(fs, args)
	if err != nil {
		return nil, err
	}
	switch {
	case *inPath != "" && *against != "":
		return nil, errors.New("audit verify: --in checks a file, --against the store: give one")
	case fs.NArg() > 0:
		// Else `audit verify log.jsonl` would check the store and say so.
		return nil, fmt.Errorf("audit verify: unexpected %q (a file is named with --in or --against)", fs.Arg(0))
	}
	var kept audit.Heads
	if *against != "" {
		if kept, err = headsOf(*against); err != nil {
			return nil, err
		}
	}
	if *inPath != "" {
		f, err := os.Open(*inPath)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return audit.VerifyExport(f, stdout)
	}
	tools, err := c.openTools(ctx, log)
	if err != nil {
		return nil, err
	}
	defer tools.Close()
	return audit.VerifyAgainst(ctx, tools.Store, kept, stdout)
}

// headsOf reads the heads of the export at path.
func headsOf(path string) (audit.Heads, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return audit.HeadsOf(f)
}
