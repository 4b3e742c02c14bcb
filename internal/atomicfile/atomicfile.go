// Package atomicfile replaces a file atomically: a reader (a service
// manager, a container runtime, a server reading its profile) sees the old
// file or the new one, never half of it.
package atomicfile

import (
	"os"
	"path/filepath"
)

// TempError is a failure to create the temporary file beside the target:
// usually a directory the caller cannot write.
type TempError struct{ Err error }

func (e *TempError) Error() string { return e.Err.Error() }
func (e *TempError) Unwrap() error { return e.Err }

// Write writes data to a temporary file in path's directory, gives it mode
// 0644 and renames it to path. On failure the temporary file is removed
// and path is as it was.
func Write(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return &TempError{err}
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
