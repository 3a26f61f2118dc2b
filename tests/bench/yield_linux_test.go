package bench

import "syscall"

// schedYield gives this thread's CPU to another runnable thread, if any.
func schedYield() { _, _, _ = syscall.Syscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }
