package survey

import (
	"context"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Tally is the count of one variable over the filtered responses of the
// forms that ask it.
type Tally struct {
	Variable *Variable
	N        int // answered
	Missing  int // asked (relevant) but not answered
	Skipped  int // not asked: relevant was false
	// Counts per choice code (select_one: responses choosing it;
	// select_multiple: responses that ticked it).
	Counts map[string]int
	// Mean and Median of numeric answers; HasMean is false when there are
	// none or the question is not numeric.
	Mean, Median float64
	HasMean      bool
	// Top2 is the percentage of answers 4 or 5 on a 1–5 scale.
	Top2    float64
	HasTop2 bool

	values []float64
}

// StageTally is one 1–5 scale variable at one stage (step or form).
type StageTally struct {
	Stage    string
	Variable *Variable
	N        int
	Counts   [5]int // answers 1..5
	Mean     float64
	Median   float64
	Top2     float64 // percent
}

// Tallies is the result of Tally.
type Tallies struct {
	Responses int
	Variables []*Tally
	// Stages lists per stage × scale summaries, stages in trial order.
	Stages []*StageTally
	byName map[string]*Tally
}

// Var returns the tally of variable name.
func (t *Tallies) Var(name string) *Tally { return t.byName[name] }

// Stage returns the summary of variable name at stage.
func (t *Tallies) Stage(stage, name string) *StageTally {
	for _, st := range t.Stages {
		if st.Stage == stage && st.Variable.Name == name {
			return st
		}
	}
	return nil
}

// tallier accumulates tallies during a scan.
type tallier struct {
	out    *Tallies
	stages map[[2]string]*StageTally
	order  []string // stages seen
	// Worked out once per form version and stage, not once per answer.
	plans   map[*formRef][]tallyPlan
	byStage map[string][]*StageTally // by variable index
	nvars   int
}

type tallyPlan struct {
	v     *Variable
	q     *Question
	tl    *Tally
	scale bool // a 1–5 scale: summarised per stage
	idx   int  // the variable's index in the layout
}

func newTallier(l *layout) *tallier {
	t := &tallier{out: &Tallies{byName: map[string]*Tally{}}, stages: map[[2]string]*StageTally{},
		plans: map[*formRef][]tallyPlan{}, byStage: map[string][]*StageTally{}, nvars: len(l.vars)}
	idx := map[*Variable]int{}
	for i, v := range l.vars {
		tl := &Tally{Variable: v, Counts: map[string]int{}}
		t.out.Variables = append(t.out.Variables, tl)
		t.out.byName[v.Name] = tl
		idx[v] = i
	}
	for _, fr := range l.forms {
		var ps []tallyPlan
		for _, v := range fr.vars {
			q := v.byRef[fr.info.Ref]
			ps = append(ps, tallyPlan{v: v, q: q, tl: t.out.byName[v.Name], scale: q.IsScale5(), idx: idx[v]})
		}
		t.plans[fr] = ps
	}
	return t
}

func (t *tallier) add(r *scanRow) {
	t.out.Responses++
	fr := r.Ref
	var stages []*StageTally
	for _, p := range t.plans[fr] {
		q, tl := p.q, p.tl
		val, ok := r.Answers[q.Name]
		if !ok || val == "" {
			if fr.form.Relevant(q, r.Answers) {
				tl.Missing++
			} else {
				tl.Skipped++
			}
			continue
		}
		tl.N++
		switch q.Type {
		case TypeSelectOne:
			tl.Counts[val]++
		case TypeSelectMultiple:
			for c := range strings.FieldsSeq(val) {
				tl.Counts[c]++
			}
		}
		if q.Type == TypeInteger || q.Type == TypeDecimal { // select_one: from Counts
			if x, err := strconv.ParseFloat(val, 64); err == nil {
				tl.values = append(tl.values, x)
			}
		}
		if p.scale {
			if stages == nil {
				stages = t.stagesOf(r.stage())
			}
			st := stages[p.idx]
			if st == nil {
				key := [2]string{r.stage(), p.v.Name}
				st = &StageTally{Stage: key[0], Variable: p.v}
				t.stages[key] = st
				stages[p.idx] = st
			}
			if n, err := strconv.Atoi(val); err == nil && n >= 1 && n <= 5 {
				st.N++
				st.Counts[n-1]++
			}
		}
	}
}

// stagesOf returns the stage's summaries by variable index.
func (t *tallier) stagesOf(stage string) []*StageTally {
	ss, ok := t.byStage[stage]
	if !ok {
		ss = make([]*StageTally, t.nvars)
		t.byStage[stage] = ss
	}
	return ss
}

func (t *tallier) finish() *Tallies {
	for _, tl := range t.out.Variables {
		q := tl.Variable.Question
		if q.Type == TypeSelectOne && q.List.Numeric() {
			tl.Mean, tl.Median, tl.HasMean = choiceMeanMedian(q.List, tl.Counts)
		} else if len(tl.values) > 0 {
			tl.Mean, tl.Median, tl.HasMean = meanMedian(tl.values)
		}
		tl.values = nil
		if q.IsScale5() && tl.N > 0 {
			tl.Top2, tl.HasTop2 = 100*float64(tl.Counts["4"]+tl.Counts["5"])/float64(tl.N), true
		}
	}
	var stages []string
	seen := map[string]bool{}
	for k := range t.stages {
		if !seen[k[0]] {
			seen[k[0]] = true
			stages = append(stages, k[0])
		}
	}
	sortStages(stages)
	for _, stage := range stages {
		for _, tl := range t.out.Variables {
			st := t.stages[[2]string{stage, tl.Variable.Name}]
			if st == nil || st.N == 0 {
				continue
			}
			st.Mean, st.Median = countsMeanMedian(st.Counts[:])
			st.Top2 = 100 * float64(st.Counts[3]+st.Counts[4]) / float64(st.N)
			t.out.Stages = append(t.out.Stages, st)
		}
	}
	return t.out
}

// choiceMeanMedian is the mean and median of the answers to a numeric
// choice list, from its counts (no value per response is kept).
func choiceMeanMedian(l *List, counts map[string]int) (mean, median float64, ok bool) {
	type point struct {
		x float64
		n int
	}
	var ps []point
	for _, c := range l.Choices {
		x, err := strconv.ParseFloat(c.Name, 64)
		if err != nil || counts[c.Name] == 0 {
			continue
		}
		ps = append(ps, point{x, counts[c.Name]})
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].x < ps[j].x })
	xs, ns := make([]float64, len(ps)), make([]int, len(ps))
	for i, p := range ps {
		xs[i], ns[i] = p.x, p.n
	}
	return weightedMeanMedian(xs, ns)
}

// countsMeanMedian is the mean and median of a 1..len(counts) scale from
// its counts.
func countsMeanMedian(counts []int) (mean, median float64) {
	xs := make([]float64, len(counts))
	for i := range xs {
		xs[i] = float64(i + 1)
	}
	mean, median, _ = weightedMeanMedian(xs, counts)
	return mean, median
}

// weightedMeanMedian is the mean and median of counts[i] answers of value
// xs[i], xs ascending.
func weightedMeanMedian(xs []float64, counts []int) (mean, median float64, ok bool) {
	n, sum := 0, 0.0
	for i, c := range counts {
		n += c
		sum += float64(c) * xs[i]
	}
	if n == 0 {
		return 0, 0, false
	}
	// The k-th smallest answer (0-based).
	at := func(k int) float64 {
		for i, c := range counts {
			if k < c {
				return xs[i]
			}
			k -= c
		}
		return xs[len(xs)-1]
	}
	median = at(n / 2)
	if n%2 == 0 {
		median = (at(n/2-1) + at(n/2)) / 2
	}
	return sum / float64(n), median, true
}

func meanMedian(xs []float64) (mean, median float64, ok bool) {
	if len(xs) == 0 {
		return 0, 0, false
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	sort.Float64s(xs)
	mid := len(xs) / 2
	median = xs[mid]
	if len(xs)%2 == 0 {
		median = (xs[mid-1] + xs[mid]) / 2
	}
	return sum / float64(len(xs)), median, true
}

// round2 rounds for display and export.
func round2(x float64) float64 { return math.Round(x*100) / 100 }

// Tally counts the filtered responses: per variable n, missing, skipped,
// counts per choice, mean and median of numeric answers, top-2-box of 1–5
// scales; and per stage × scale summaries.
func (s *Service) Tally(ctx context.Context, f Filter) (*Tallies, error) {
	var out *Tallies
	err := s.snapshot(ctx, func(rd reader) error {
		l, _, err := s.prepare(ctx, rd, f)
		if err != nil {
			return err
		}
		t := newTallier(l)
		if err := s.scan(ctx, rd, f, l, false, nil, nil, func(r *scanRow) error { t.add(r); return nil }); err != nil {
			return err
		}
		out = t.finish()
		return nil
	})
	return out, err
}
