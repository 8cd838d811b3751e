package trial

import "strings"

// monitorKey is the text a query is matched against: id, name and kana
// folded by SearchKey, separated by a byte no folded query contains so a
// match never straddles two fields.
func monitorKey(m *Monitor) string {
	return SearchKey(m.ID) + "\x00" + SearchKey(m.Name) + "\x00" + SearchKey(m.Kana)
}

// Index is an in-memory list of monitors for filtering as a person types.
// Each monitor's search key is folded once when it is added, so a filter is
// one substring test per monitor. Build it from monitors the Service
// returned: their personal fields are opened, so names and kana are
// searchable in memory only and never leave it; a monitor read without the
// data key (Sealed) is found by its id alone. An Index is not safe for concurrent
// writes; build a new one (or Put) on the goroutine that filters.
type Index struct {
	ms   []Monitor
	keys []string
	pos  map[string]int
}

// NewIndex indexes ms (kept in the given order; the slice is copied).
func NewIndex(ms []Monitor) *Index {
	ix := &Index{ms: make([]Monitor, len(ms)), keys: make([]string, len(ms)), pos: make(map[string]int, len(ms))}
	copy(ix.ms, ms)
	for i := range ix.ms {
		ix.keys[i] = monitorKey(&ix.ms[i])
		ix.pos[ix.ms[i].ID] = i
	}
	return ix
}

// Len is the number of monitors indexed.
func (ix *Index) Len() int { return len(ix.ms) }

// At returns the i-th monitor (as numbered by Filter's results).
func (ix *Index) At(i int) *Monitor { return &ix.ms[i] }

// Put replaces the monitor with m's id, or appends m; call it after an edit
// or a withdrawal so the list shows it without reloading.
func (ix *Index) Put(m Monitor) {
	if i, ok := ix.pos[m.ID]; ok {
		ix.ms[i], ix.keys[i] = m, monitorKey(&m)
		return
	}
	ix.pos[m.ID] = len(ix.ms)
	ix.ms = append(ix.ms, m)
	ix.keys = append(ix.keys, monitorKey(&m))
}

// Filter returns the positions (for At) of the monitors f selects, in index
// order. The query is folded like the keys: "やまだ", "ﾔﾏﾀﾞ" and "ヤマダ"
// find the same people; "m-12" or "0012" finds M-0012.
func (ix *Index) Filter(f Filter) []int {
	q := SearchKey(f.Query)
	out := make([]int, 0, len(ix.ms))
	for i := range ix.ms {
		m := &ix.ms[i]
		if f.TrialID != 0 && m.TrialID != f.TrialID {
			continue
		}
		if f.SessionID != 0 && (m.SessionID == nil || *m.SessionID != f.SessionID) {
			continue
		}
		if f.Status != "" && m.Status != f.Status {
			continue
		}
		if q != "" && !strings.Contains(ix.keys[i], q) {
			continue
		}
		out = append(out, i)
	}
	return out
}
