package cli

import (
	"context"
	"errors"
	"testing"
)

func TestReadersTable(t *testing.T) {
	old := listReaders
	t.Cleanup(func() { listReaders = old })
	listReaders = func(context.Context) ([]ReaderLine, error) {
		return []ReaderLine{
			{Name: "ACS ACR1252 Dual Reader [ACR1252 Dual Reader PICC] 00 00", Card: "present", Type: "Phone token (JPKI)"},
			{Name: "Virtual PCD 00 01", Card: "absent"},
		}, nil
	}
	code, out, stderr := run(t, "", "readers")
	want := "READER                                                    CARD     TYPE\n" +
		"ACS ACR1252 Dual Reader [ACR1252 Dual Reader PICC] 00 00  present  Phone token (JPKI)\n" +
		"Virtual PCD 00 01                                         absent   -\n"
	if code != 0 || out != want {
		t.Fatalf("exit %d\n%s%s\nwant\n%s", code, out, stderr, want)
	}
	listReaders = func(context.Context) ([]ReaderLine, error) { return nil, nil }
	if code, out, _ := run(t, "", "readers"); code != 0 || out != "no PC/SC readers connected\n" {
		t.Fatalf("no readers: exit %d, %q", code, out)
	}
	listReaders = func(context.Context) ([]ReaderLine, error) {
		return nil, errors.New("pcscd is not running (start it)\nsecond line")
	}
	if code, _, stderr := run(t, "", "readers"); code != 1 || stderr != "jpkipilot readers: pcscd is not running (start it)\n" {
		t.Fatalf("failure: exit %d, %q", code, stderr)
	}
	if code, _, _ := run(t, "", "readers", "now"); code != 2 {
		t.Fatalf("argument: exit %d", code)
	}
}
