// Package fuzz holds fuzz targets that drive a live PostgreSQL cluster with
// pgseccomp preloaded and compare what it does with the Go model of the
// layering (internal/policy):
//
//   - FuzzClientFilter: set_client_filter() with arbitrary arguments, in a
//     fresh session each time;
//   - FuzzReloadSettings: arbitrary session-level and per-role settings,
//     applied with a reload.
//
// Their seeds run as ordinary tests (go test ./...). To fuzz, one target at
// a time (each fuzzing worker starts its own cluster):
//
//	go test -run '^$' -fuzz '^FuzzClientFilter$' -fuzztime 10m ./tests/fuzz
//
// The C parser of lists and actions is fuzzed on its own, under sanitizers,
// by extension/fuzz.
package fuzz
