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
// and the per-pair confined/unconfined ratios.
type pairSummary struct {
	UnconfinedMedian float64   `json:"unconfined_median"`
	ConfinedMedian   float64   `json:"confined_median"`
	Ratios           []float64 `json:"ratios"`
	RatioMedian      float64   `json:"ratio_median"`
	RatioMin         float64   `json:"ratio_min"`
	RatioMax         float64   `json:"ratio_max"`
}

// summarisePairs pairs unconfined[i] with confined[i]; both have one figure
// per pair. Without runs it returns the zero summary.
func summarisePairs(unconfined, confined []float64) pairSummary {
	var s pairSummary
	if len(unconfined) == 0 || len(confined) == 0 {
		return s // zero, not NaN: it goes into JSON
	}
	s.UnconfinedMedian, s.ConfinedMedian = median(unconfined), median(confined)
	for i := range min(len(unconfined), len(confined)) {
		if unconfined[i] > 0 {
			s.Ratios = append(s.Ratios, confined[i]/unconfined[i])
		}
	}
	if len(s.Ratios) > 0 {
		s.RatioMedian = median(s.Ratios)
		s.RatioMin = slices.Min(s.Ratios)
		s.RatioMax = slices.Max(s.Ratios)
	}
	return s
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
