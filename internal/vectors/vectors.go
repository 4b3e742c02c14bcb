// Package vectors reads the shared test vectors of testdata/vectors:
// settings in, seccomp_filter() rows out. The extension's tests run them
// against a live server and the Go model's tests run them offline, so both
// read them here, the same way.
package vectors

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Vector is one file: a configuration and the sessions to check under it.
type Vector struct {
	File     string            `json:"-"` // base name, without .json
	Name     string            `json:"name"`
	About    string            `json:"about"`
	Settings map[string]string `json:"settings"` // besides preloading and enabling pgseccomp
	Cases    []Case            `json:"cases"`
}

// Case is one session: its role (empty: the bootstrap superuser), the five
// arguments of set_client_filter() if it calls it (nil: SQL NULL), and every
// row seccomp_filter() must return, in any order.
type Case struct {
	Role         string    `json:"role"`
	ClientFilter []*string `json:"client_filter"`
	Rows         []Row     `json:"rows"`
}

// Row is [syscall, filter_action, context].
type Row = [3]string

// Load reads every *.json file of dir, sorted by name.
func Load(dir string) ([]Vector, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no test vectors (*.json) in %s", dir)
	}
	var out []Vector
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var v Vector
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for i, c := range v.Cases {
			if c.ClientFilter != nil && len(c.ClientFilter) != 5 {
				return nil, fmt.Errorf("%s: case %d: client_filter has %d arguments, set_client_filter takes 5", file, i, len(c.ClientFilter))
			}
		}
		v.File = strings.TrimSuffix(filepath.Base(file), ".json")
		out = append(out, v)
	}
	return out, nil
}

// SortRows orders rows by context, then syscall, then action, so that two
// sets of rows compare with slices.Equal.
func SortRows(rows []Row) {
	slices.SortFunc(rows, func(a, b Row) int {
		for _, i := range []int{2, 0, 1} {
			if c := strings.Compare(a[i], b[i]); c != 0 {
				return c
			}
		}
		return 0
	})
}

// Rejection is a configuration pgseccomp must reject: the server refuses
// to start with it, and the Go model reports a problem with Setting (""
// for a conflict between two settings) and exactly Detail, which the
// server's message contains too.
type Rejection struct {
	Name     string            `json:"name"`
	Settings map[string]string `json:"settings"` // besides preloading and enabling pgseccomp
	Setting  string            `json:"setting"`
	Detail   string            `json:"detail"`
}

// LoadRejections reads a rejections file (testdata/vectors/rejected).
func LoadRejections(file string) ([]Rejection, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var doc struct {
		About string      `json:"about"`
		Cases []Rejection `json:"cases"`
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(doc.Cases) == 0 {
		return nil, fmt.Errorf("%s: no cases", file)
	}
	for i, c := range doc.Cases {
		if c.Name == "" || len(c.Settings) == 0 || c.Detail == "" {
			return nil, fmt.Errorf("%s: case %d: name, settings and detail are required", file, i)
		}
	}
	return doc.Cases, nil
}

