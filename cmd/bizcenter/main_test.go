package main

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"
)

// A command that SIGTERM cut short exits 143 and one that Ctrl-C did 130,
// as a shell reports a command each signal ended.
func TestAn_interrupted_command_exits_as_its_signal_says(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		ctx, stop := signalled()
		if err := syscall.Kill(syscall.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("%v did not end the context", sig)
		}
		err := interrupted(ctx, context.Canceled, "nothing")
		if want := 128 + int(sig); exitCode(err) != want {
			t.Errorf("after %v: %v exits %d, want %d", sig, err, exitCode(err), want)
		}
		stop()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := interrupted(ctx, errors.New("cut"), "nothing"); exitCode(err) != 130 {
		t.Errorf("a context cancelled without a signal: exit %d, want 130", exitCode(err))
	}
}
