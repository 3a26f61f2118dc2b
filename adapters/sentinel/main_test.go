package sentinel_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain fails the package when the tests leave a goroutine behind: the
// failover watch's subscriptions and promotion checks, the diagnostics'
// probes. It gives goroutines up to about 3 s to end: a go-redis pool whose
// dials failed runs a goroutine that probes its server once a second and
// ends at the first probe after the pool is closed.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(3 * time.Second)
		err := goleak.Find()
		for err != nil && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			err = goleak.Find()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
