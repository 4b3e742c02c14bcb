package main

import "fmt"

// controlMode is what the confined side of a control run is instead ("" in
// a real run). Either way no side loads a filter, so every ratio is the
// benchmark's own noise and bias, plus, for controlLoaded, whatever merely
// loading the library costs.
type controlMode string

const (
	// controlUnloaded: the confined side runs as the unconfined one (A/A).
	controlUnloaded controlMode = "unloaded"
	// controlLoaded: the confined side preloads pgseccomp with
	// pgseccomp.enabled = off.
	controlLoaded controlMode = "loaded"
)

// String and Set make --control a flag; IsBoolFlag lets it stand alone
// (--control means --control=unloaded).
func (m *controlMode) String() string { return string(*m) }

func (m *controlMode) IsBoolFlag() bool { return true }

func (m *controlMode) Set(v string) error {
	switch v {
	case "true", string(controlUnloaded):
		*m = controlUnloaded
	case "false":
		*m = ""
	case string(controlLoaded):
		*m = controlLoaded
	default:
		return fmt.Errorf("--control=%s: give --control (pgseccomp on neither side) or --control=loaded (preloaded but switched off on the confined side)", v)
	}
	return nil
}

// outSuffix ends the default results file name of a control run.
func (m controlMode) outSuffix() string {
	if m == controlLoaded {
		return "-control-loaded.json"
	}
	return "-control.json"
}

// note explains a control run in the table and the JSON file.
func (m controlMode) note() string {
	if m == controlLoaded {
		return "CONTROL RUN (loaded): the confined side preloaded pgseccomp with pgseccomp.enabled = off, so the library and libseccomp were in every server process but no filter was; every ratio is the benchmark's own noise and bias plus what having the library loaded costs."
	}
	return "CONTROL RUN: the confined side ran without pgseccomp as well, so every ratio is the benchmark's own noise and bias between two identical servers."
}
