package profile

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/report"
)

// LayerSummary is one layer in show's output.
type LayerSummary struct {
	Layer   string        `json:"layer"` // global, session or role <name>
	Role    string        `json:"role,omitempty"`
	Default policy.Action `json:"default"`
	Allow   int           `json:"allow"`
	Log     int           `json:"log"`
	Error   int           `json:"error"`
	Kill    int           `json:"kill"`
	Records uint64        `json:"records"` // audit records counted while recording
}

// ShowReport is what pgseccomp profile show --json prints.
type ShowReport struct {
	File       string         `json:"file"`
	Format     string         `json:"format"`
	Provenance Provenance     `json:"provenance"`
	Layers     []LayerSummary `json:"layers"`
}

// Show summarizes p: its provenance and, per layer, the default and how
// many syscalls each list names.
func Show(p *Profile) ShowReport {
	r := ShowReport{File: p.Source, Format: p.Format, Provenance: p.Provenance}
	add := func(name, role string, l Layer) {
		r.Layers = append(r.Layers, LayerSummary{Layer: name, Role: role, Default: l.Default,
			Allow: len(l.Allow), Log: len(l.Log), Error: len(l.Error), Kill: len(l.Kill), Records: l.Records()})
	}
	add(GlobalLayerName, "", p.Global)
	add(SessionLayerName, "", p.Session)
	for _, role := range p.RoleNames() {
		add(RoleLayerName(role), role, p.Roles[role])
	}
	return r
}

// WriteSummary writes what Show says as text: the provenance, then a
// table of the layers.
func WriteSummary(w io.Writer, p *Profile) {
	pv := &p.Provenance
	fmt.Fprintf(w, "Profile %s (%s)\n", p.Source, p.Format)
	row := func(name, value string) {
		if value != "" {
			fmt.Fprintf(w, "  %-13s %s\n", name+":", value)
		}
	}
	var recorded []string
	if !pv.RecordedAt.IsZero() {
		recorded = append(recorded, pv.RecordedAt.UTC().Format(time.RFC3339))
	}
	if pv.Tool != "" {
		recorded = append(recorded, "by "+pv.Tool)
	}
	if pv.Seconds > 0 {
		recorded = append(recorded, "in "+strconv.FormatFloat(pv.Seconds, 'f', 1, 64)+" s")
	}
	row("recorded", strings.Join(recorded, " "))
	row("architecture", pv.Architecture)
	row("postgresql", pv.PostgreSQL)
	row("glibc", pv.Glibc)
	row("kernel", pv.Kernel)
	row("distribution", pv.Distribution)
	row("workloads", strings.Join(pv.Workloads, ", "))
	for i, pass := range pv.Passes {
		name := ""
		if i == 0 {
			name = "passes"
		}
		fmt.Fprintf(w, "  %-13s %d %s: %d records, %d new, %s s\n", ifColon(name), pass.Number, pass.Phase, pass.Records, len(pass.New),
			strconv.FormatFloat(pass.Seconds, 'f', 1, 64))
	}
	for i, a := range pv.Added {
		name := ""
		if i == 0 {
			name = "added"
		}
		fmt.Fprintf(w, "  %-13s %s: %s (%s)\n", ifColon(name), a.Layer, strings.Join(a.Syscalls, ", "), a.Why)
	}
	row("merged from", strings.Join(pv.MergedFrom, ", "))

	fmt.Fprintln(w)
	var cells [][]string
	for _, l := range Show(p).Layers {
		name := l.Layer
		if l.Role != "" {
			name = "role " + strconv.Quote(l.Role)
		}
		cells = append(cells, []string{name, l.Default.String(), strconv.Itoa(l.Allow), strconv.Itoa(l.Log),
			strconv.Itoa(l.Error), strconv.Itoa(l.Kill), strconv.FormatUint(l.Records, 10)})
	}
	report.Table(w, []string{"layer", "default", "allow", "log", "error", "kill", "records"},
		map[int]bool{2: true, 3: true, 4: true, 5: true, 6: true}, cells)
	if len(p.Roles) > 0 {
		fmt.Fprintln(w, "A role's layer replaces the session layer for the sessions it authenticates; other roles get the session layer.")
	}
}

func ifColon(name string) string {
	if name == "" {
		return ""
	}
	return name + ":"
}
