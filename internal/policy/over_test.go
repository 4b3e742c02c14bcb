package policy

import (
	"math/rand/v2"
	"testing"
)

// TestOverKeepsEffectiveActions: for random global and session layers, a
// session program compiled from Over gives every syscall the same
// effective action on top of the global layer as the layer itself.
func TestOverKeepsEffectiveActions(t *testing.T) {
	arch, err := NativeArch()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	layer := func(origin Origin) *Layer {
		l := &Layer{Origin: origin, Arch: arch, Default: Action(r.IntN(4)), Rules: map[int]Action{}}
		for range r.IntN(60) {
			l.Rules[r.IntN(40)] = Action(r.IntN(4))
		}
		return l
	}
	for i := 0; i < 2000; i++ {
		g, s := layer(Global), layer(Session)
		o := s.Over(g)
		for nr := 0; nr < 45; nr++ {
			want, _ := Stack{g, s}.Effective(nr)
			got, _ := Stack{g, o}.Effective(nr)
			if got != want {
				t.Fatalf("case %d, syscall %d: global %v (default %v), session %v (default %v): Over gives %v, want %v",
					i, nr, g.Rules, g.Default, s.Rules, s.Default, got, want)
			}
		}
		if len(o.Rules) > len(s.Rules)+len(g.Rules) {
			t.Fatalf("Over has more rules than both layers")
		}
	}
}

// TestOverShrinksAnAllowList: an allow-list session under an allow-list
// global layer (both error by default, as in the shipped profile) becomes
// the deny-list of what only the global layer allows.
func TestOverShrinksAnAllowList(t *testing.T) {
	arch, err := NativeArch()
	if err != nil {
		t.Fatal(err)
	}
	g := &Layer{Origin: Global, Arch: arch, Default: Error, Rules: map[int]Action{0: Allow, 1: Allow, 2: Allow, 3: Allow}}
	s := &Layer{Origin: Session, Arch: arch, Default: Error, Rules: map[int]Action{0: Allow, 1: Allow}}
	o := s.Over(g)
	if o.Default != Allow || len(o.Rules) != 2 || o.Rules[2] != Error || o.Rules[3] != Error {
		t.Errorf("Over = default %v, rules %v; want default allow, error for 2 and 3", o.Default, o.Rules)
	}
}
