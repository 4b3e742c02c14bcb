package cluster

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/pgconf"
)

// reservedSettings are settings this package owns: connections depend on them.
var reservedSettings = map[string]string{
	"port":                    "use Options.Port",
	"unix_socket_directories": "connections always use Cluster.SocketDir",
}

// Settings returns a copy of the settings currently in ManagedConfFile (from
// Options.Settings or the last SetSettings).
func (c *Cluster) Settings() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.settings)
}

// SetSettings rewrites ManagedConfFile with exactly these settings (sorted by
// name), replacing all settings previously given in Options.Settings or to
// SetSettings. Values are written verbatim: quote strings yourself, e.g.
// "'pgseccomp'". Nothing changes in the running server until Reload or
// Restart. To change one setting and keep the others, start from Settings().
func (c *Cluster) SetSettings(settings map[string]string) error {
	s, err := copySettings(settings, "SetSettings")
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmdline { // they go on the server's command line at Start
		c.settings = s
		return nil
	}
	if err := c.writeConfFile(ManagedConfFile, managedConf(s)); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	c.settings = s
	return nil
}

// copySettings validates settings and returns a copy (never nil).
func copySettings(settings map[string]string, from string) (map[string]string, error) {
	out := make(map[string]string, len(settings))
	for name, value := range settings {
		if why, ok := reservedSettings[strings.ToLower(name)]; ok {
			return nil, fmt.Errorf("%s may not set %q: %s", from, name, why)
		}
		if !validSettingName(name) {
			return nil, fmt.Errorf("%s: %q is not a setting name (letters, digits, '_', '$' and '.' only)", from, name)
		}
		if strings.ContainsAny(value, "\n\r\x00") {
			return nil, fmt.Errorf("%s: the value of %q contains a line break or NUL; a postgresql.conf value is one line", from, name)
		}
		if strings.TrimSpace(value) == "" {
			return nil, fmt.Errorf("%s: the value of %q is empty; write '' for an empty string", from, name)
		}
		out[name] = value
	}
	return out, nil
}

// validSettingName accepts what could be a GUC name. PostgreSQL makes the
// final decision (for instance, its configuration file parser accepts at most
// one '.' in a name); this only keeps the file well-formed.
func validSettingName(name string) bool {
	if name == "" || name[0] == '.' || name[len(name)-1] == '.' || (name[0] >= '0' && name[0] <= '9') {
		return false
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '_', r == '$', r == '.', r >= 0x80:
		default:
			return false
		}
	}
	return true
}

// managedConf renders ManagedConfFile.
func managedConf(settings map[string]string) string {
	var b strings.Builder
	b.WriteString("# Managed by pgseccomp internal/cluster (Options.Settings, SetSettings).\n")
	b.WriteString("# Rewritten as a whole by SetSettings: do not edit.\n")
	for _, name := range slices.Sorted(maps.Keys(settings)) {
		fmt.Fprintf(&b, "%s = %s\n", name, settings[name])
	}
	return b.String()
}

// writeConfig writes pg_hba.conf, BaseConfFile and ManagedConfFile, and makes
// postgresql.conf include the latter two. Called once, by New.
func (c *Cluster) writeConfig() error {
	const hba = `# Written by pgseccomp internal/cluster: a throwaway test cluster.
# TYPE  DATABASE     USER  ADDRESS       METHOD
local   all          all                 trust
host    all          all   127.0.0.1/32  trust
local   replication  all                 trust
host    replication  all   127.0.0.1/32  trust
`
	if err := c.writeConfFile("pg_hba.conf", hba); err != nil {
		return err
	}
	if err := c.writeBaseConf(); err != nil {
		return err
	}
	if err := c.writeConfFile(ManagedConfFile, managedConf(c.settings)); err != nil {
		return err
	}
	conf := filepath.Join(c.DataDir, "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open postgresql.conf to add includes: %w", err)
	}
	_, err = fmt.Fprintf(f, "\n# Added by pgseccomp internal/cluster:\ninclude = %s\ninclude_if_exists = %s\n",
		QuoteValue(BaseConfFile), QuoteValue(ManagedConfFile))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("add includes to %s: %w", conf, err)
	}
	return nil
}

// writeBaseConf writes BaseConfFile for the current Port.
func (c *Cluster) writeBaseConf() error {
	conf := fmt.Sprintf(`# Written by pgseccomp internal/cluster: do not edit.
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = %s
logging_collector = off
`, c.Port, QuoteValue(c.SocketDir))
	return c.writeConfFile(BaseConfFile, conf)
}

// writeConfFile replaces DataDir/name atomically with content, owned by the
// OS user and readable only by it.
func (c *Cluster) writeConfFile(name, content string) error {
	path := filepath.Join(c.DataDir, name)
	f, err := os.CreateTemp(c.DataDir, "."+name+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.WriteString(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o600)
	}
	if err == nil {
		err = c.acct.Chown(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// QuoteValue quotes s as a postgresql.conf string value, for Options.Settings
// and SetSettings.
func QuoteValue(s string) string { return pgconf.Quote(s) }
