package trial

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/pii"
)

// The personal fields of a monitor, as package pii names them: the field a
// value is sealed under, with the monitor id as its row.
const (
	fieldName    = "monitors.name"
	fieldKana    = "monitors.kana"
	fieldContact = "monitors.contact"
)

// hasPersonal reports whether m carries any personal field.
func hasPersonal(m *Monitor) bool { return m.Name != "" || m.Kana != "" || m.Contact != "" }

// openMonitor replaces m's stored personal fields with their plaintext.
// Without the key (k nil) sealed fields come back empty and m.Sealed is set,
// so a screen shows （非表示） rather than a blank it could take for erased.
// A value that does not open under k is an error (pii.ErrTampered).
func openMonitor(k *pii.Key, m *Monitor) error {
	m.Sealed = false
	for _, f := range []struct {
		field string
		v     *string
	}{{fieldName, &m.Name}, {fieldKana, &m.Kana}, {fieldContact, &m.Contact}} {
		pt, err := k.Open(f.field, m.ID, *f.v)
		switch {
		case errors.Is(err, pii.ErrLocked):
			*f.v, m.Sealed = "", true
		case err != nil:
			return err
		default:
			*f.v = pt
		}
	}
	return nil
}

// OpenPersonal opens m's Name, Kana and Contact as read straight from the
// monitors table (a join in another package: exports, the loans sheet),
// like the Service does: with k the plaintext; without it sealed fields
// become empty and m.Sealed is set. m.ID must be the monitor's id: it is
// the row the values are sealed to.
func OpenPersonal(k *pii.Key, m *Monitor) error { return openMonitor(k, m) }

// openMonitors opens every monitor of ms in place.
func openMonitors(k *pii.Key, ms []Monitor) error {
	for i := range ms {
		if err := openMonitor(k, &ms[i]); err != nil {
			return err
		}
	}
	return nil
}

// personal is what a write stores in the personal columns.
type personal struct{ name, kana, contact string }

// writeMode decides, inside a write's transaction, how personal fields are
// stored: sealed under the service's key; in the clear on a store that has
// no staff accounts yet (pii.Required false); refused with pii.ErrLocked
// on a sealed store without a key.
type writeMode struct {
	key    *pii.Key
	locked bool // sealed store, no key: no personal field may be written
}

func modeFor(ctx context.Context, tx *sqlx.Tx, k *pii.Key) (writeMode, error) {
	if k != nil {
		return writeMode{key: k}, nil
	}
	req, err := pii.Required(ctx, tx)
	if err != nil {
		return writeMode{}, err
	}
	return writeMode{locked: req}, nil
}

// seal returns the stored form of m's personal fields.
func (w writeMode) seal(m *Monitor) (personal, error) {
	if w.key == nil {
		if w.locked && hasPersonal(m) {
			return personal{}, pii.ErrLocked
		}
		return personal{m.Name, m.Kana, m.Contact}, nil
	}
	var p personal
	var err error
	if p.name, err = w.key.Seal(fieldName, m.ID, m.Name); err != nil {
		return personal{}, err
	}
	if p.kana, err = w.key.Seal(fieldKana, m.ID, m.Kana); err != nil {
		return personal{}, err
	}
	if p.contact, err = w.key.Seal(fieldContact, m.ID, m.Contact); err != nil {
		return personal{}, err
	}
	return p, nil
}

// sealMonitors replaces the personal fields of ms (ids allocated) with their
// stored form. Sealing is AES-GCM with a fresh random nonce per value; a
// large import spreads it over the CPUs.
func (w writeMode) sealMonitors(ms []Monitor) error {
	if w.key == nil {
		for i := range ms {
			if w.locked && hasPersonal(&ms[i]) {
				return pii.ErrLocked
			}
		}
		return nil
	}
	workers := min(runtime.GOMAXPROCS(0), 1+len(ms)/500)
	chunk := (len(ms) + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for g := 0; g < workers; g++ {
		lo, hi := g*chunk, min((g+1)*chunk, len(ms))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				m := &ms[i]
				p, err := w.seal(m)
				if err != nil {
					errs[g] = fmt.Errorf("monitor %s: %w", m.ID, err)
					return
				}
				m.Name, m.Kana, m.Contact = p.name, p.kana, p.contact
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
