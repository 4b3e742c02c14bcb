package main

import (
	"flag"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
)

// clusterFlagsHelp is the help of --cluster and --pgdata, the same in
// every command that takes a cluster.
const clusterFlagsHelp = `  --cluster VER/NAME  the cluster as pg_lsclusters names it (15/main): its
                      configuration in /etc/postgresql/VER/NAME and the data
                      directory its data_directory names
  --pgdata DIR        the cluster's data directory or its configuration
                      directory (the one with postgresql.conf): the other
                      one is found from data_directory, postmaster.opts or
                      /etc/postgresql
`

// clusterFlags are --cluster and --pgdata.
type clusterFlags struct {
	name   string
	pgdata string
}

func (c *clusterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.name, "cluster", "", "the cluster as pg_lsclusters names it (VERSION/NAME)")
	fs.StringVar(&c.pgdata, "pgdata", "", "the cluster's data or configuration directory")
}

// given reports whether either flag names a cluster.
func (c *clusterFlags) given() bool { return c.name != "" || c.pgdata != "" }

// find resolves the cluster the flags name.
func (c *clusterFlags) find() (*cluster.Existing, error) {
	return cluster.FindExisting(c.name, c.pgdata)
}
