package survey

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// The mean and median from counts equal those of the answers spelt out,
// for lists whose codes are not in order, with gaps and non-numeric codes.
func TestChoiceMeanMedianFromCounts(t *testing.T) {
	l := &List{Choices: []Choice{{Name: "5"}, {Name: "1"}, {Name: "3"}, {Name: "dk"}, {Name: "2.5"}, {Name: "-1"}}}
	rng := rand.New(rand.NewPCG(7, 9))
	for trial := range 500 {
		counts := map[string]int{}
		var xs []float64
		for _, c := range l.Choices {
			n := rng.IntN(4)
			if trial%7 == 0 && c.Name == "3" {
				n = 0
			}
			counts[c.Name] = n
			x, err := strconv.ParseFloat(c.Name, 64)
			if err != nil {
				continue
			}
			for range n {
				xs = append(xs, x)
			}
		}
		wantMean, wantMedian, wantOK := meanMedian(xs)
		mean, median, ok := choiceMeanMedian(l, counts)
		if ok != wantOK || mean != wantMean || median != wantMedian {
			t.Fatalf("counts %v: got %v %v %v, want %v %v %v", counts, mean, median, ok, wantMean, wantMedian, wantOK)
		}
	}
	if mean, median := countsMeanMedian([]int{1, 0, 2, 0, 1}); mean != 3 || median != 3 {
		t.Fatalf("1,3,3,5: mean %v median %v", mean, median)
	}
	if mean, median := countsMeanMedian([]int{1, 1, 0, 0, 0}); mean != 1.5 || median != 1.5 {
		t.Fatalf("1,2: mean %v median %v", mean, median)
	}
}
