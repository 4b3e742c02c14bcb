package procs

import (
	"bytes"
	"strings"
)

// ParseCmdline splits the contents of /proc/PID/cmdline into arguments.
//
// The kernel separates arguments with NUL bytes. PostgreSQL (like other
// programs that set their process title by overwriting argv) writes its title
// over the whole argument area and pads the rest with NULs, so trailing empty
// arguments are padding and are dropped. When the first argument is a
// PostgreSQL title ("postgres: ...") it is returned alone, with trailing
// padding spaces trimmed: anything after it is a remnant of the original
// arguments, not part of the title.
func ParseCmdline(data []byte) []string {
	data = bytes.TrimRight(data, "\x00")
	if len(data) == 0 {
		return nil
	}
	args := strings.Split(string(data), "\x00")
	if first := args[0]; strings.HasPrefix(first, titlePrefix) {
		return []string{strings.TrimRight(first, " \t")}
	}
	return args
}

// TitleOf renders parsed command-line arguments as one line: the
// PostgreSQL process title for a child process, the original command line
// for a postmaster. Trailing padding spaces are trimmed.
func TitleOf(args []string) string {
	return strings.TrimRight(strings.Join(args, " "), " \t")
}
