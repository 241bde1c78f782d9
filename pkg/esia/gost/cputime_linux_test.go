package gost

import "syscall"

// threadCPUTime returns the calling thread's CPU time in nanoseconds (RUSAGE_THREAD).
func threadCPUTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1, &ru); err != nil { // 1 = RUSAGE_THREAD
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
