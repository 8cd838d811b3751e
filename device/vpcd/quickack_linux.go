package vpcd

import (
	"net"
	"syscall"
)

// quickAck asks Linux to acknowledge received data at once. vpcd writes a
// frame's 2-byte length and its payload with two send calls and leaves
// Nagle's algorithm on, so the payload waits until the length is
// acknowledged; with delayed ACKs that costs ~40 ms per APDU.
func quickAck(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
