// Package procs finds PostgreSQL processes and reports how each one is
// confined by seccomp, from what the kernel shows under /proc.
//
// The package has two halves:
//
//   - pure parsers that take the contents of one /proc file and return what
//     it says: [ParseStatus] (/proc/PID/status), [ParseStat] (/proc/PID/stat),
//     [ParseCmdline] and [ParseTitle] (the PostgreSQL process title in
//     /proc/PID/cmdline), [MapsHasLibrary] (/proc/PID/maps) and
//     [ParsePostmasterPID] (DATADIR/postmaster.pid);
//   - a [Reader] that reads those files below a configurable root ("/proc" by
//     default, a fixture directory in tests) and groups processes into
//     clusters: [Reader.Discover], [Reader.OfPostmaster] and [Reader.ForPID];
//   - [Forks], the kernel's process events: every fork with its parent,
//     for a watcher that must know processes too short-lived to be seen
//     in /proc.
//
// Processes come and go while /proc is scanned. A process that vanishes
// between two reads is skipped silently (see [IsVanished]); it never makes a
// scan fail.
package procs
