package service_test

import (
	"net/http"
	"os"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/internal/pgtest"
)

var servingAddr = regexp.MustCompile(`msg=serving addr=(\S+)`)

func TestServe_is_ready_then_shuts_down_cleanly_on_SIGTERM(t *testing.T) {
	cmd, logPath := startLogged(t, buildBinary(t), pgtest.URL(t))
	var addr string
	deadline := time.Now().Add(30 * time.Second)
	for addr == "" {
		b, _ := os.ReadFile(logPath)
		if m := servingAddr.FindSubmatch(b); m != nil {
			addr = string(m[1])
		} else if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", b)
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		for {
			resp, err := http.Get("http://" + addr + path)
			if err == nil && resp.StatusCode == http.StatusOK {
				resp.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never answered 200 (%v)", path, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("serve exited with %v after SIGTERM:\n%s", err, b)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve still running 20s after SIGTERM")
	}
}
