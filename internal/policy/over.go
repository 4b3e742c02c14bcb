// C twin: extension/layers.c (layer_over_global).

package policy

// Over is the session layer l as its program is compiled, on top of the
// global layer (the extension's layer_over_global()): the kernel applies
// the stronger action of the two filters, and equal actions are identical
// (error is always EACCES), so a syscall whose global action is at least as
// strong as its session action is allowed by the session program. What is
// left is usually a short deny-list of what the global layer allows and the
// session does not: a small program, loaded fast, whose allowed syscalls
// stay constant for the kernel's action cache. Every syscall's effective
// action (Stack{global, l}) is unchanged; rows and parallel workers use l
// itself.
func (l *Layer) Over(global *Layer) *Layer {
	over := &Layer{Origin: l.Origin, Arch: l.Arch, Rules: map[int]Action{}, From: map[int]string{}, DefaultFrom: l.DefaultFrom}
	over.Default = l.Default
	if global.Default >= l.Default {
		over.Default = Allow
	}
	add := func(nr int) {
		own := l.Action(nr)
		if global.Action(nr) >= own {
			own = Allow
		}
		if own != over.Default {
			over.Rules[nr] = own
			over.From[nr] = l.Why(nr)
		}
	}
	for nr := range l.Rules {
		add(nr)
	}
	for nr := range global.Rules {
		add(nr)
	}
	return over
}
