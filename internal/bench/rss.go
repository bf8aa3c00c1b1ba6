package bench

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// watchRSS starts watching this process's resident set; the returned func
// stops and gives the peak in bytes since the start. The kernel's
// high-water mark (VmHWM) is reset first, after returning freed memory to
// the OS, so earlier work does not count; where that reset is refused, a
// sampler reads VmRSS every 20ms instead.
func watchRSS() (peak func() int64) {
	runtime.GC()
	debug.FreeOSMemory()
	if os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil {
		return func() int64 { return procStatus("VmHWM") }
	}
	done := make(chan struct{})
	result := make(chan int64)
	go func() {
		var most int64
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			most = max(most, procStatus("VmRSS"))
			select {
			case <-t.C:
			case <-done:
				result <- most
				return
			}
		}
	}()
	return func() int64 {
		close(done)
		return <-result
	}
}

// procStatus reads a kB field of /proc/self/status, in bytes (0 if none).
func procStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
