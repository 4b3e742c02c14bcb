package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/install"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/profile"
	"github.com/pgseccomp/pgseccomp/internal/source"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

// configFlags say which configuration to read: --config, --pgdata and
// --profile, shared by the commands that read a postgresql.conf.
type configFlags struct {
	file    string
	cluster clusterFlags
	profile string
}

func (c *configFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.file, "config", "", "postgresql.conf (or profile) to read")
	c.cluster.register(fs)
	fs.StringVar(&c.profile, "profile", "", "pgseccomp profile to read")
}

// load reads the configuration (or profile) the flags name. A non-nil error
// is an input error (exit status 2) and says what to do.
func (c *configFlags) load() (*source.Input, error) {
	if c.profile != "" {
		if c.file != "" {
			return nil, errors.New("--profile reads a profile instead of a configuration: give it without --config (with --cluster or --pgdata, it is read as installed there)")
		}
		if c.cluster.given() {
			return installedProfile(c.cluster, c.profile)
		}
		return source.ReadProfile(c.profile)
	}
	if c.file != "" {
		in, isProfile, err := source.SniffProfile(c.file)
		switch {
		case isProfile && c.cluster.given():
			return nil, fmt.Errorf("%s is a pgseccomp profile, which has no data directory: give it without --cluster and --pgdata", c.file)
		case isProfile:
			return in, err
		}
	}
	file, dataDir := c.file, ""
	flags := c.cluster
	if file == "" && !flags.given() {
		flags.pgdata = os.Getenv("PGDATA")
		if flags.pgdata == "" {
			return nil, errors.New("no configuration given: use --config FILE, --cluster VERSION/NAME or --pgdata DIR (or set $PGDATA)")
		}
	}
	if flags.given() {
		e, err := flags.find()
		if err != nil {
			return nil, err
		}
		dataDir = e.DataDir
		if file == "" {
			file = e.ConfigFile
		}
	}
	return source.LoadConf(file, dataDir)
}

// installedProfile is the configuration of the cluster cf names as the
// server would read it after 'pgseccomp install --enforce error' of the
// profile at path: what lint and explain check before an install.
func installedProfile(cf clusterFlags, path string) (*source.Input, error) {
	e, err := cf.find()
	if err != nil {
		return nil, err
	}
	p, err := profile.Read(path)
	if err != nil {
		return nil, err
	}
	f, err := install.Preview(e, p, policy.Error)
	if err != nil {
		return nil, err
	}
	return source.ForConf(f), nil
}
