// Package policy is the Go model of pgseccomp's layering (docs/SPEC.md §1–§3): the
// same settings in, the same filters and the same seccomp_filter() rows out
// as the extension (extension/settings.c, layers.c, sqlfuncs.c).
//
// The steps, each a function of the previous one's result:
//
//	values (setting name -> value: a map, or a pgconf.File)
//	  -> ParseSettings, SettingsFromConf   *Settings: arch-independent, checked
//	  -> (*Settings).Build(arch)  *Policy: the global layer and the session
//	                              layer of every role, syscalls resolved on arch
//	  -> (*Policy).ClientLayer    the layer set_client_filter(...) would add
//	  -> (*Policy).Rows           what seccomp_filter() returns
//
// Every check the extension makes is made here too, with a message that
// names the setting, its value, where it was set and the offending word; all
// problems are collected (the extension stops at the first), as a Problems
// error.
//
// A Layer maps syscall numbers (of its Arch) to actions. Lists are ranked
// like the extension's LayerSource ranks: within one layer an explicit list
// (a per-role list, an explicit set_client_filter() argument, any global
// list) beats a session-level list (or a NULL client argument), which beats
// a list inherited with '*'; two lists of the same rank naming one syscall
// are an error.
//
// Nothing here reads files or talks to a server: the package is the shared
// model for explain, lint, the profile exporters and the tests that compare
// it with a live cluster.
package policy
