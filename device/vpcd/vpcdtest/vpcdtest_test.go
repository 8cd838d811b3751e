package vpcdtest

import "testing"

func TestReaderName(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:35963": "Virtual PCD 00 00",
		"127.0.0.1:35964": "Virtual PCD 00 01",
	} {
		if got, err := ReaderName(addr); err != nil || got != want {
			t.Errorf("ReaderName(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
	for _, bad := range []string{"127.0.0.1:35962", "127.0.0.1:35965", "35963", "127.0.0.1:x"} {
		if _, err := ReaderName(bad); err == nil {
			t.Errorf("ReaderName(%q) accepted", bad)
		}
	}
	if got := Other(t, "127.0.0.1:35963"); got != "127.0.0.1:35964" {
		t.Errorf("Other(35963) = %s", got)
	}
	if got := Other(t, "127.0.0.1:35964"); got != "127.0.0.1:35963" {
		t.Errorf("Other(35964) = %s", got)
	}
}
