//go:build linux

package pki

import "syscall"

// peakRSS is the process's maximum resident set size in bytes.
func peakRSS() (int64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return int64(ru.Maxrss) * 1024, true // Linux reports KiB
}
