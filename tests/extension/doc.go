// Package extension holds the tests of the pgseccomp extension: each runs
// real PostgreSQL clusters with the installed extension, and checks what
// SQL, /proc and the kernel's audit records show.
package extension
