// Package tests runs the conformance suite against every backend, on real
// redis-server and redis-sentinel processes that the suite starts itself.
package tests

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/goleak"
)

func TestRediscache(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	RegisterFailHandler(Fail)
	RunSpecs(t, "rediscache")
	goleak.VerifyNone(t, ignore,
		// ginkgo's own signal watcher, stopped only at process exit.
		goleak.IgnoreTopFunction("github.com/onsi/ginkgo/v2/internal/interrupt_handler.(*InterruptHandler).registerForInterrupts.func2"))
}
