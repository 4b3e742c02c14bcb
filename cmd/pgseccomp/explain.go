package main

// runExplain is being written; this placeholder keeps the build green meanwhile.
func runExplain(args []string) int {
	return usageError("explain", "not implemented yet")
}
