package profile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/pgseccomp/pgseccomp/internal/atomicfile"
)

// Marshal returns the profile as Write writes it.
func (p *Profile) Marshal() ([]byte, error) {
	q := p.Clone()
	q.normalize()
	if q.Format == "" {
		q.Format = Format
	}
	// Lists the format always shows are [] rather than null when empty.
	fill := func(l *Layer) {
		if l.Allow == nil {
			l.Allow = []string{}
		}
	}
	fill(&q.Global)
	fill(&q.Session)
	for r, l := range q.Roles {
		fill(&l)
		q.Roles[r] = l
	}
	if q.Provenance.Workloads == nil {
		q.Provenance.Workloads = []string{}
	}
	for i := range q.Provenance.Added {
		if q.Provenance.Added[i].Syscalls == nil {
			q.Provenance.Added[i].Syscalls = []string{}
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(q); err != nil {
		return nil, fmt.Errorf("writing profile %s: %v", p.name(), err)
	}
	return b.Bytes(), nil
}

// Write writes the profile as indented JSON, the same bytes for the same
// profile: keys in a fixed order (struct order, map keys sorted), syscall
// lists sorted by name, times in UTC. A profile without a format gets this
// version's.
func (p *Profile) Write(w io.Writer) error {
	data, err := p.Marshal()
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// WriteFile writes the profile to path, replacing the file atomically so
// that no reader sees half a profile.
func (p *Profile) WriteFile(path string) error {
	data, err := p.Marshal()
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("writing profile %s: %v", path, err)
	}
	return nil
}
