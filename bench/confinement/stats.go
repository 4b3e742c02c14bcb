package main

import (
	"math"
	"slices"
)

// median of xs (the mean of the middle two for an even count); NaN if empty.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// percentile returns the nearest-rank p-th percentile of xs (0 < p <= 100):
// the smallest value that at least p% of the values do not exceed. NaN if
// xs is empty.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(xs))
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// pairSummary summarises the runs of one measure: the medians of each side
// and the per-pair ratios, each confined run against the unconfined runs
// just before and just after it.
type pairSummary struct {
	UnconfinedMedian float64   `json:"unconfined_median"`
	ConfinedMedian   float64   `json:"confined_median"`
	Ratios           []float64 `json:"ratios"`
	RatioMedian      float64   `json:"ratio_median"`
	RatioMin         float64   `json:"ratio_min"`
	RatioMax         float64   `json:"ratio_max"`
	// RatioLow..RatioHigh is a distribution-free confidence interval for
	// the median ratio (order statistics of the binomial), at RatioCoverage
	// (0.95, or less when there are too few pairs for 95%).
	RatioLow      float64 `json:"ratio_ci_low"`
	RatioHigh     float64 `json:"ratio_ci_high"`
	RatioCoverage float64 `json:"ratio_ci_coverage"`
}

// summarisePairs summarises runs made in the order u1 c1 u2 c2 ... un cn
// u(n+1): unconfined holds one run more than confined, the closing one.
// Pair i's ratio is c(i) over the geometric mean of u(i) and u(i+1), the
// unconfined runs on either side of it, so a machine that drifts steadily
// faster or slower during the measure biases no ratio, and neither does
// the confined run always coming second. Without runs, or without the
// closing run, it returns the zero summary.
func summarisePairs(unconfined, confined []float64) pairSummary {
	var s pairSummary
	if len(confined) == 0 || len(unconfined) != len(confined)+1 {
		return s // zero, not NaN: it goes into JSON
	}
	s.UnconfinedMedian, s.ConfinedMedian = median(unconfined), median(confined)
	for i, c := range confined {
		if before, after := unconfined[i], unconfined[i+1]; before > 0 && after > 0 {
			s.Ratios = append(s.Ratios, bracketRatio(before, c, after))
		}
	}
	if len(s.Ratios) > 0 {
		s.RatioMedian = median(s.Ratios)
		s.RatioMin = slices.Min(s.Ratios)
		s.RatioMax = slices.Max(s.Ratios)
		s.RatioLow, s.RatioHigh, s.RatioCoverage = medianInterval(s.Ratios)
	}
	return s
}

// bracketRatio is a confined figure over the geometric mean of the
// unconfined figures just before and just after it.
func bracketRatio(before, confined, after float64) float64 {
	return confined / math.Sqrt(before*after)
}

// medianInterval returns the widest-ranked pair of order statistics
// x(k) <= median <= x(n+1-k) whose coverage is at least 95%: the median
// lies outside only when k or fewer of n values fall on one side, which a
// fair coin bounds without assuming any distribution. With fewer than 6
// values no pair reaches 95%, and the interval is min..max with its lower
// coverage 1 - 2^(1-n).
func medianInterval(xs []float64) (low, high, coverage float64) {
	n := len(xs)
	if n == 0 {
		return math.NaN(), math.NaN(), 0
	}
	s := slices.Sorted(slices.Values(xs))
	// tail[j] = P(Binomial(n, 1/2) <= j)
	tail := make([]float64, n+1)
	p := math.Pow(0.5, float64(n)) // P(X = 0)
	cum := 0.0
	for j := 0; j <= n; j++ {
		cum += p
		tail[j] = cum
		p = p * float64(n-j) / float64(j+1)
	}
	k := 1 // 1-based rank of the lower bound
	for k+1 <= n/2 && tail[k] <= 0.025 {
		k++
	}
	return s[k-1], s[n-k], 1 - 2*tail[k-1]
}

// distribution is min/median/p99/max of a sample.
type distribution struct {
	Count  int     `json:"count"`
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	P99    float64 `json:"p99"`
	Max    float64 `json:"max"`
}

// distributionOf returns the distribution of xs; the zero distribution
// (Count 0) if xs is empty.
func distributionOf(xs []float64) distribution {
	if len(xs) == 0 {
		return distribution{}
	}
	return distribution{
		Count:  len(xs),
		Min:    slices.Min(xs),
		Median: median(xs),
		P99:    percentile(xs, 99),
		Max:    slices.Max(xs),
	}
}
