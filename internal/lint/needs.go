package lint

import (
	"fmt"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/pgconf"
	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// conditions are the policy.Needs conditions the server's configuration
// sets, each with what sets it, for messages. Without a server
// configuration (a profile) none are known.
func (l *linter) conditionsWhy() map[policy.Condition]string {
	conds := map[policy.Condition]string{}
	conf := l.in.Conf
	if conf == nil {
		return conds
	}
	listen := setting(conf, "listen_addresses", "localhost")
	if strings.TrimSpace(listen.Value) != "" {
		conds[policy.ListenTCP] = describe(listen)
	}
	if ssl := setting(conf, "ssl", "off"); isOn(ssl.Value) {
		conds[policy.SSL] = describe(ssl)
	}
	if h := l.in.HBA; h != nil {
		for _, line := range h.Lines {
			where := fmt.Sprintf("%s in %s:%d", line.Method, h.File, line.Line)
			switch {
			case line.Method == "peer" || line.Method == "ident" && line.Type == "local":
				if conds[policy.Peer] == "" {
					conds[policy.Peer] = where
				}
			case line.Method == "scram-sha-256" || line.Method == "md5":
				if conds[policy.Password] == "" {
					conds[policy.Password] = where
				}
			}
		}
	}
	return conds
}

func (l *linter) conditions() []policy.Condition {
	var out []policy.Condition
	for c := range l.conditionsWhy() {
		out = append(out, c)
	}
	return out
}

// setting is a server setting's line, or its default (File "").
func setting(conf *pgconf.File, name, def string) pgconf.Setting {
	if s, ok := conf.Lookup(name); ok {
		return s
	}
	return pgconf.Setting{Name: name, Value: def}
}

// describe says what a setting is and where, e.g. "listen_addresses = '*'
// (postgresql.conf:59)".
func describe(s pgconf.Setting) string {
	if s.File == "" {
		return fmt.Sprintf("%s = %s (the default)", s.Name, pgconf.Quote(s.Value))
	}
	return fmt.Sprintf("%s = %s (%s)", s.Name, pgconf.Quote(s.Value), s.Where())
}

// isOn reads a boolean setting as PostgreSQL does (a unique prefix of on,
// off, true, false, yes, no; 1 or 0).
func isOn(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	switch v {
	case "on", "1":
		return true
	}
	return len(v) > 0 && (strings.HasPrefix("true", v) || strings.HasPrefix("yes", v))
}

// checkNeeds: each layer against policy.Needs, for what the configuration
// uses. A denied need stops the server, refuses connections of a
// configured kind, or keeps a crashed cluster down: an error; a denied
// need that is a risk (policy.Need.Risk), a warning.
func (l *linter) checkNeeds(sessions []sessionLayer) {
	conds := l.conditionsWhy()
	layers := append([]sessionLayer{{"", l.t.Policy.Global}}, sessions...)
	reported := map[*policy.Layer]map[string]bool{} // a name reported as an error is not repeated as a warning
	for _, ly := range layers {
		reported[ly.layer] = map[string]bool{}
	}
	for _, need := range policy.NeedsFor(l.in.Major) {
		because := ""
		if need.When != policy.Always {
			c, ok := conds[need.When]
			if !ok {
				continue
			}
			because = ", which " + c + " needs"
		}
		for _, ly := range layers {
			names := need.Global
			if ly.layer.Origin != policy.Global {
				names = need.Session
			}
			var denied []string
			for _, name := range names {
				if d, _ := l.denies(ly.layer, name); d && !(need.Risk && reported[ly.layer][name]) {
					denied = append(denied, name)
					reported[ly.layer][name] = true
				}
			}
			if len(denied) == 0 {
				continue
			}
			severity := Error
			if need.Risk {
				severity = Warning
			}
			l.add(Finding{Check: need.Check, Severity: severity, Setting: l.settingFor(ly.layer, denied[0]), Role: ly.role,
				Message: fmt.Sprintf("%s denies %s%s", layerName(ly.layer, ly.role), strings.Join(denied, ", "), because),
				Why:     need.Why,
				Fix:     fmt.Sprintf("allow %s in %s", strings.Join(denied, ", "), allowSetting(ly.layer, ly.role))})
		}
	}
}

// knownMethods are the pg_hba.conf methods policy.Needs accounts for (or
// that need nothing beyond what every connection does).
var knownMethods = map[string]bool{"trust": true, "reject": true, "peer": true, "scram-sha-256": true, "md5": true, "password": true}

// checkMethods: pg_hba.conf methods lint cannot judge, and a pg_hba.conf it
// could not read.
func (l *linter) checkMethods() {
	h := l.in.HBA
	if l.in.Conf == nil || h == nil {
		return
	}
	if h.Err != nil {
		l.add(Finding{Check: "methods", Severity: Notice, Where: h.File,
			Message: fmt.Sprintf("the authentication methods were not checked: %v", h.Err),
			Why:     "a method in force whose syscalls a layer denies refuses every login by it (peer needs getsockopt, scram-sha-256 and md5 getrandom)",
			Fix:     "run lint as a user who can read the server's pg_hba.conf (hba_file), e.g. as postgres"})
		return
	}
	seen := map[string]bool{}
	for _, line := range h.Lines {
		m := line.Method
		if knownMethods[m] || m == "ident" && line.Type == "local" || seen[m] {
			continue
		}
		seen[m] = true
		l.add(Finding{Check: "methods", Severity: Notice, Where: fmt.Sprintf("%s:%d", h.File, line.Line),
			Message: fmt.Sprintf("lint does not know what %s authentication needs", m),
			Why:     fmt.Sprintf("%s logins run under the global filter only (before authentication completes), with syscalls of their own (network lookups, libraries) that lint cannot list", m),
			Fix:     fmt.Sprintf("record with a workload that logs in by %s (pgseccomp record --workload), or check the global layer with log defaults first", m)})
	}
}
