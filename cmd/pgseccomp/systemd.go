package main

// runSystemd is being written; this placeholder keeps the build green meanwhile.
func runSystemd(args []string) int {
	return usageError("systemd", "not implemented yet")
}
