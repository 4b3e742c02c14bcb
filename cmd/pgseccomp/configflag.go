package main

import (
	"errors"
	"flag"
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
		case isProfile && err == nil && c.cluster.given():
			return installedProfile(c.cluster, c.file)
		case isProfile:
			return in, err
		}
	}
	file, dataDir, major := c.file, "", 0
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
		major, _ = e.Major() // 0 when PG_VERSION cannot be read: every major's needs
		if file == "" {
			file = e.ConfigFile
		}
	}
	in, err := source.LoadConf(file, dataDir)
	if err != nil {
		return nil, err
	}
	in.TargetMajor = major
	return in, nil
}

// installedProfile is the configuration of the cluster cf names as the
// server would read it after 'pgseccomp install --enforce error' of the
// profile at path (what lint and explain check before an install), with
// what install would refuse, and the cluster's major to compare with the
// profile's.
func installedProfile(cf clusterFlags, path string) (*source.Input, error) {
	e, err := cf.find()
	if err != nil {
		return nil, err
	}
	p, err := profile.Read(path)
	if err != nil {
		return nil, err
	}
	f, refusals, err := install.Preview(e, p, policy.Error)
	if err != nil {
		return nil, err
	}
	in := source.ForConf(f)
	in.Installed, in.Refusals = p, refusals
	in.TargetMajor, _ = e.Major()
	return in, nil
}
