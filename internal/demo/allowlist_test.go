package demo

import (
	"slices"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// TestAllowListsCoverNeeds: the demo's lists, which the load test and the
// bench enforce with error defaults, allow everything policy.Needs says a
// server with a Unix socket and trust logins needs.
func TestAllowListsCoverNeeds(t *testing.T) {
	for _, n := range policy.SessionNeeds() {
		if !slices.Contains(HandDerivedSessionAllowList, n) {
			t.Errorf("HandDerivedSessionAllowList lacks %s, which sessions need", n)
		}
	}
	global := HandDerivedGlobalAllowList()
	for _, n := range policy.GlobalNeeds() {
		if !slices.Contains(global, n) {
			t.Errorf("HandDerivedGlobalAllowList() lacks %s, which the global layer needs", n)
		}
	}
}

func TestGlobalAllowListCoversSessions(t *testing.T) {
	global := HandDerivedGlobalAllowList()
	for _, s := range slices.Concat(policy.PostmasterOnly(), HandDerivedSessionAllowList) {
		if !slices.Contains(global, s) {
			t.Errorf("%s is allowed to sessions or the postmaster but not in the global allow-list", s)
		}
	}
	if !slices.IsSorted(global) || len(slices.Compact(slices.Clone(global))) != len(global) {
		t.Error("the global allow-list is not sorted and unique")
	}
}
