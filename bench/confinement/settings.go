package main

import (
	"fmt"
	"maps"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/demo"
	"github.com/pgseccomp/pgseccomp/internal/policy"
	"github.com/pgseccomp/pgseccomp/internal/profile"
)

// sharedBuffersMB sizes shared_buffers so that the pgbench tables and
// indexes (about 16 MB per scale unit) fit: select-only then measures CPU
// and syscalls, not reads.
func sharedBuffersMB(scale int) int {
	return max(256, 24*scale)
}

// tuningSettings is the postgresql.conf both clusters share, so that
// pgseccomp is the only difference between them.
func tuningSettings(scale int) map[string]string {
	return map[string]string{
		"shared_buffers": cluster.QuoteValue(fmt.Sprintf("%dMB", sharedBuffersMB(scale))),
		// "try" could give one cluster huge pages and not the other.
		"huge_pages": "off",
		// No checkpoint inside a run: the driver checkpoints between runs.
		"checkpoint_timeout": cluster.QuoteValue("1h"),
		"max_wal_size":       cluster.QuoteValue("4GB"),
		// The idle cluster stays idle; pgbench vacuums before tpcb-like runs.
		"autovacuum": "off",
		// Durable commits, as a production server runs them.
		"fsync":              "on",
		"synchronous_commit": "on",
		"max_connections":    "100",
		"log_min_messages":   "warning",
	}
}

// confinedSettings is tuningSettings plus pgseccomp: both layers with
// "error" defaults and a realistic allow-list (the demo's, which the global
// layer extends with what the postmaster needs).
func confinedSettings(scale int) map[string]string {
	s := tuningSettings(scale)
	maps.Copy(s, profile.ConfSettings(&profile.Profile{
		Global:  profile.Layer{Default: policy.Error, Allow: demo.HandDerivedGlobalAllowList()},
		Session: profile.Layer{Default: policy.Error, Allow: demo.HandDerivedSessionAllowList},
	}, nil))
	s[policy.PreloadLibrariesName] = cluster.QuoteValue("pgseccomp")
	return s
}

// loadedSettings is confinedSettings with pgseccomp switched off: the
// library (and libseccomp) is loaded into every server process, but no
// filter is. It is the confined side of a --control=loaded run.
func loadedSettings(scale int) map[string]string {
	s := confinedSettings(scale)
	s[policy.EnabledName] = "off"
	return s
}

// clientFilterArgs are the arguments of set_client_filter in the
// client-filter measure: the talk's example 4 (deny the syscalls that start
// a program), on top of the session's own lists. Its default "error" and
// inherited allow-list make it a complete filter, compiled and loaded in
// every session.
const clientFilterArgs = "('error', NULL, NULL, 'clone,clone3', NULL)"

// clientFilterCall is the call as a side's schema holds it; the verification
// runs it.
func clientFilterCall(schema string) string {
	return "SELECT " + schema + ".set_client_filter" + clientFilterArgs
}

// clientFilterStub creates set_client_filter for the unconfined side in
// schema: same name, signature and attributes as pgseccomp's, returning 'OK'
// and doing nothing else, so that both sides run the same SQL. The planner
// inlines this SQL function, so the baseline pays nothing for it and the
// ratio charges pgseccomp the whole cost of the real call.
func clientFilterStub(schema string) string {
	return `CREATE FUNCTION ` + schema + `.set_client_filter(
    default_action text, allow_list text, log_list text, error_list text, kill_list text)
RETURNS text LANGUAGE sql CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE
AS $$SELECT 'OK'::text$$`
}

// clientFilterScript is the pgbench script of the client-filter measure:
// the call, in the schema pgbench's variable "side" names (-D side=...),
// then pgbench's built-in select-only transaction.
const clientFilterScript = "-- pgseccomp bench/confinement: one client filter per session (run with -C -D side=SIDE)\n" +
	"SELECT :side.set_client_filter" + clientFilterArgs + ";\n" +
	"\\set aid random(1, 100000 * :scale)\n" +
	"SELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n"
