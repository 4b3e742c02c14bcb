// Package pgconf reads postgresql.conf exactly as PostgreSQL 15 does
// (src/backend/utils/misc/guc-file.l): "name = value" or "name value" lines,
// '#' comments, values in single quotes (a quote doubled, and backslash escapes
// inside), include, include_if_exists and include_dir directives, and
// postgresql.auto.conf in the data directory read last. A setting set twice
// takes its last value; names are case-insensitive. Every setting remembers
// the file and line that set it, for messages.
//
// Load reads a configuration the way a starting postmaster does; Parse reads
// one file's bytes without following its includes.
package pgconf
