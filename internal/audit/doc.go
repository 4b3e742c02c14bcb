// Package audit reads the kernel's seccomp audit records (type 1326,
// "SECCOMP") from every log they end up in: auditd's audit.log (RAW or
// ENRICHED), the kernel log (/dev/kmsg, dmesg with any prefix), journalctl
// (both of journald's transports) and syslog copies. Each line is
// recognised by itself, so one input may mix formats; see [Format].
//
// Only some of those sources are evidence: anybody can write a line that
// looks like a record into syslog, the journal's text or PostgreSQL's log
// (RAISE LOG). Every record says whether it came from a source users
// cannot write ([Record.Trusted]: the kernel log as dmesg and /dev/kmsg
// print it, auditd's log, journal JSON entries of the kernel or audit
// transport, the audit netlink socket); the others are counted apart
// ([Stats].Untrusted) and only selected on request ([Filter].Untrusted).
//
// The parts:
//
//   - [ParseLine] finds and parses the record on one line into a [Record],
//     telling a line without a record from a record that is cut short or
//     has a bad field. [Record.Resolve] names the syscall in the record's
//     own ABI (arch=, and x32's bit), with libseccomp.
//   - [Scanner] reads records from a stream one line at a time, counting
//     unrelated and malformed lines ([Stats]).
//   - [Summary] tallies records per syscall and ABI (counts, first and last
//     seen, PIDs, actions, commands, executables) in memory that grows with
//     what is distinct, not with the input; [Summary.Tally] reads a whole
//     log on every CPU, and [Filter] selects the records it keeps.
//
// The hot path is built for audit logs of gigabytes: a record laid out as
// the kernel writes it is read by a fixed-order fast path without
// allocating, and everything else by a field-by-field parser that says
// what is wrong; fuzz tests hold the two to the same answers.
package audit
