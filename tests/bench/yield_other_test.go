//go:build !linux

package bench

import "time"

// schedYield approximates sched_yield(2) where the syscall package lacks it.
func schedYield() { time.Sleep(0) }
