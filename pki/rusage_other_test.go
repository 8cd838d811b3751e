//go:build !linux

package pki

func peakRSS() (int64, bool) { return 0, false }
