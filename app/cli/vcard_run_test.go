package cli

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"jpkipilot/device/vcard"
)

// Each `vcard --trial-ca` is a run of virtual cards: when it stops, the next
// one revokes its certificates (their key died with the process), and
// `ca list` tells the virtual cards' certificates from a real card's.
func TestVCardTrialRunRevokedByTheNextAndListedAsVirtual(t *testing.T) {
	c := newCACLI(t)
	pass := c.path("pass")
	c.ok("ca", "init", "--passphrase-file", pass)
	c.ok("ca", "issue", "--kind", "auth", "--holder", "CARD-1", "--new-key", c.path("real.key"), "--out", c.path("real.pem"), "--passphrase-file", pass)
	var stderr bytes.Buffer
	env := &Env{Ctx: context.Background(), Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &stderr, DSN: c.db}

	_, end, err := trialVirtualCard(env, pass, vcard.MyNumber, "M-0001")
	if err != nil {
		t.Fatal(err)
	}
	list := c.ok("ca", "list") // while the first run serves
	if n := len(regexp.MustCompile(`(?m)^\S+\s+(auth|sign)\s+M-0001\s+\S+\s+valid\s+virtual \(run \w+\)$`).FindAllString(list, -1)); n != 2 {
		t.Fatalf("ca list while serving shows %d valid virtual certificates for M-0001, want 2:\n%s", n, list)
	}
	end()
	_, end, err = trialVirtualCard(env, pass, vcard.Phone, "M-0002")
	if err != nil {
		t.Fatal(err)
	}
	defer end()
	if stderr.Len() > 0 {
		t.Errorf("stderr: %s", stderr.String())
	}

	list = c.ok("ca", "list")
	lines := map[string]int{}
	for _, line := range strings.Split(list, "\n") {
		switch {
		case regexp.MustCompile(`^\S+\s+(auth|sign)\s+M-0001\s+\S+\s+revoked \S+ \(cessationOfOperation\)\s+virtual \(run \w+\)$`).MatchString(line):
			lines["ended run"]++
		case regexp.MustCompile(`^\S+\s+auth\s+M-0002\s+\S+\s+valid\s+virtual \(run \w+\)$`).MatchString(line):
			lines["serving run"]++
		case regexp.MustCompile(`^\S+\s+auth\s+CARD-1\s+\S+\s+valid\s+-$`).MatchString(line):
			lines["real card"]++
		}
	}
	if lines["ended run"] != 2 || lines["serving run"] != 1 || lines["real card"] != 1 {
		t.Fatalf("ca list after a second run (%v):\n%s", lines, list)
	}
}
