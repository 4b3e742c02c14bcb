// Package export writes filters that confine a whole PostgreSQL service from
// outside the server: a systemd drop-in (SystemCallFilter= and friends), an
// OCI seccomp profile (runc, crun, Docker, a Kubernetes Localhost profile)
// and a security-profiles-operator SeccompProfile manifest.
//
// The input is a Filter: one default action and the actions of named
// syscalls, i.e. one seccomp filter. Such an outer filter applies to every
// process of the service (the service manager's or runtime's helpers, the
// postmaster and all its children), so it must allow everything any layer of
// pgseccomp could allow: that is the global layer, since the session and
// client layers can only restrict further. Where a format cannot express an
// action exactly, the writers choose the looser action (pgseccomp's own
// filters, which stack underneath, still enforce the exact one) and say so
// in the output or in the notes they return. They never make the outer filter
// stricter than the global layer: filters stack, the strictest action wins,
// and a stricter outer filter would change how PostgreSQL behaves.
package export
