//go:build cgo

package pcsc

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"jpkipilot/device/vcard"
	"jpkipilot/device/vpcd"
	"jpkipilot/device/vpcd/vpcdtest"
)

func vpcdAddr(t testing.TB) string { return vpcdtest.Addr(t) }

func readerFor(t testing.TB, addr string) string { return vpcdtest.Reader(t, addr) }

var (
	demoOnce   sync.Once
	demoCA     *vcard.DemoCA
	demoCfg    map[vcard.Profile]vcard.Config
	demoCfgErr error
)

func demoConfig(t testing.TB, p vcard.Profile) vcard.Config {
	t.Helper()
	demoOnce.Do(func() {
		demoCfg = map[vcard.Profile]vcard.Config{}
		if demoCA, demoCfgErr = vcard.NewDemoCA(); demoCfgErr != nil {
			return
		}
		for _, p := range []vcard.Profile{vcard.MyNumber, vcard.Phone} {
			if demoCfg[p], demoCfgErr = demoCA.Issue(p, "DEMO TARO"); demoCfgErr != nil {
				return
			}
		}
	})
	if demoCfgErr != nil {
		t.Fatal(demoCfgErr)
	}
	return demoCfg[p]
}

func newCard(t testing.TB, p vcard.Profile) *vcard.Card {
	t.Helper()
	c, err := vcard.New(demoConfig(t, p))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// insert serves card on addr through vpcd and waits until pcscd sees it.
// The returned func pulls the card out and waits until pcscd has noticed.
func insert(t testing.TB, addr string, card vpcd.Card) (remove func()) {
	t.Helper()
	reader := readerFor(t, addr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- vpcd.Serve(ctx, addr, card) }()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if _, err := WaitForCard(wctx, reader); err != nil {
		cancel()
		t.Fatalf("card not seen in %q: %v (bridge: %v)", reader, err, drain(done))
	}
	var once sync.Once
	remove = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("vpcd bridge: %v", err)
			}
			wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer wcancel()
			if err := WaitForRemoval(wctx, reader); err != nil {
				t.Errorf("removal not seen in %q: %v", reader, err)
			}
		})
	}
	t.Cleanup(remove)
	return remove
}

func drain(ch chan error) error {
	select {
	case err := <-ch:
		return err
	default:
		return errors.New("still running")
	}
}
