package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pgseccomp/pgseccomp/internal/atomicfile"
	"github.com/pgseccomp/pgseccomp/internal/pgconf"
)

// writeJSON prints v as indented JSON; a non-zero status means it failed
// and said so.
func writeJSON(cmd string, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(stderr, "pgseccomp %s: writing JSON: %v\n", cmd, err)
		return 2
	}
	return 0
}

// writeOutput writes data to path ("-": stdout). A file is replaced
// atomically, so a service manager or runtime never reads half of it.
func writeOutput(cmd, path string, data []byte) int {
	if path == "-" || path == "" {
		if _, err := stdout.Write(data); err != nil {
			fmt.Fprintf(stderr, "pgseccomp %s: writing to stdout: %v\n", cmd, err)
			return 1
		}
		return 0
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageError(cmd, "--output %s: cannot create its directory: %v", path, pgconf.UnwrapPathError(err))
	}
	var te *atomicfile.TempError
	switch err := atomicfile.Write(path, data); {
	case errors.As(err, &te):
		return usageError(cmd, "--output %s: %v; check the directory's permissions, or write to stdout", path, pgconf.UnwrapPathError(te.Err))
	case err != nil:
		return usageError(cmd, "--output %s: %v", path, pgconf.UnwrapPathError(err))
	}
	return 0
}
