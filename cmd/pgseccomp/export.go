package main

// runExport is being written; this placeholder keeps the build green meanwhile.
func runExport(args []string) int {
	return usageError("export", "not implemented yet")
}
