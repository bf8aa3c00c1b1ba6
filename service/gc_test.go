package service

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestTuneGC_sets_the_target_unless_GOGC_is_set(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })

	t.Run("unset", func(t *testing.T) {
		t.Setenv("GOGC", "") // restored when the test ends
		if err := os.Unsetenv("GOGC"); err != nil {
			t.Fatal(err)
		}
		TuneGC()
		if got := debug.SetGCPercent(100); got != GCPercent {
			t.Errorf("GOGC unset: the target is %d%%, want %d%%", got, GCPercent)
		}
	})
	t.Run("empty", func(t *testing.T) {
		t.Setenv("GOGC", "")
		TuneGC()
		if got := debug.SetGCPercent(100); got != GCPercent {
			t.Errorf("GOGC empty: the target is %d%%, want %d%%", got, GCPercent)
		}
	})
	t.Run("set", func(t *testing.T) {
		t.Setenv("GOGC", "50")
		TuneGC()
		if got := debug.SetGCPercent(100); got != 100 {
			t.Errorf("GOGC=50: the target became %d%%; the environment's is the runtime's to apply", got)
		}
	})
}
