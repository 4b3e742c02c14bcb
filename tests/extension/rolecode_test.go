package extension

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestAutovacuumRunsRoleFunctionUnderRoleFilter: autovacuum's ANALYZE
// evaluates an expression index of a table owned by joe, whose function
// reads a tablespace's location, a readlink joe's sessions are denied. The
// worker loads joe's session filter before it runs the function, whether
// joe wrote it or bob (not listed) did and joe's index calls it (ANALYZE
// runs as the table's owner), so the statistics it writes hold what joe's
// own session gets ("denied"), not the location. With
// pgseccomp.background_role_filters = off the location leaks into
// pg_stats, which shows the test can tell.
func TestAutovacuumRunsRoleFunctionUnderRoleFilter(t *testing.T) {
	settings := map[string]string{
		"pgseccomp.session_roles":   "joe",
		"session_syscall_error.joe": readlinkSyscall(),
		"autovacuum_naptime":        "1s",
	}
	c := newCluster(t, settings)
	admin := connect(t, c, "")
	dir := createTablespace(t, c, admin, "regress_rolecode")
	mustExec(t, admin, "CREATE ROLE joe LOGIN")
	mustExec(t, admin, "GRANT CREATE ON SCHEMA public TO joe")
	joe := connect(t, c, "joe")
	where := `(i int) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN pg_tablespace_location((SELECT oid FROM pg_tablespace WHERE spcname = 'regress_rolecode'));
EXCEPTION WHEN others THEN
	RETURN 'denied';
END $$`
	mustExec(t, joe, "CREATE FUNCTION joe_where"+where)
	mustExec(t, admin, "CREATE ROLE bob")
	mustExec(t, admin, "CREATE FUNCTION bob_where"+where)
	mustExec(t, admin, "ALTER FUNCTION bob_where(int) OWNER TO bob")

	for _, tt := range []struct {
		name, function string
		filter         bool
	}{{"filtered", "joe_where", true}, {"bobs_function", "bob_where", true}, {"off", "joe_where", false}} {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.filter {
				reload(t, c, with(settings, "pgseccomp.background_role_filters", "off"))
			}
			table := "joe_" + tt.name
			mustExec(t, joe, "CREATE TABLE "+table+" (i int) WITH (autovacuum_analyze_threshold = 0, autovacuum_analyze_scale_factor = 0)")
			mustExec(t, joe, "CREATE INDEX "+table+"_where ON "+table+" ("+tt.function+"(i))")
			if got := queryString(t, joe, "SELECT "+tt.function+"(1)"); got != "denied" {
				t.Fatalf("joe's own session: %s = %q, want denied", tt.function, got)
			}
			mustExec(t, joe, "INSERT INTO "+table+" SELECT generate_series(1, 100)")

			// wait for autovacuum's ANALYZE of the table
			var analyzed int64
			for deadline := time.Now().Add(90 * time.Second); analyzed == 0 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
				if err := admin.QueryRow(context.Background(),
					"SELECT autoanalyze_count FROM pg_stat_user_tables WHERE relname = $1", table).Scan(&analyzed); err != nil {
					t.Fatal(err)
				}
			}
			if analyzed == 0 {
				t.Fatalf("autovacuum did not analyze %s within 90 s:\n%s", table, c.LogTail(40))
			}
			var vals string
			if err := admin.QueryRow(context.Background(),
				"SELECT coalesce(most_common_vals::text, '') FROM pg_stats WHERE tablename = $1", table+"_where").Scan(&vals); err != nil {
				t.Fatalf("the index expression's statistics: %v", err)
			}
			leaked := strings.Contains(vals, dir)
			switch {
			case tt.filter && leaked:
				t.Errorf("autovacuum ran %s on joe's table without joe's filter: pg_stats holds the tablespace location: %s", tt.function, vals)
			case tt.filter && !strings.Contains(vals, "denied"):
				t.Errorf("pg_stats holds %q, want %s's \"denied\"", vals, tt.function)
			case !tt.filter && !leaked:
				t.Errorf("with pgseccomp.background_role_filters = off pg_stats holds %q, want the tablespace location: the test cannot tell", vals)
			}
			t.Logf("autovacuum ANALYZE of %s: most_common_vals %s", table, vals)
		})
	}
}

// TestApplyWorkerRunsRoleTriggerUnderRoleFilter: a logical replication
// apply worker runs joe's ENABLE ALWAYS trigger on a replicated insert. The
// trigger's function (joe's) reads a tablespace's location, a readlink
// joe's sessions are denied; the worker loads joe's session filter before
// it runs the function, so the trigger sees the denial, as joe's own
// session would.
func TestApplyWorkerRunsRoleTriggerUnderRoleFilter(t *testing.T) {
	c := newCluster(t, map[string]string{
		"pgseccomp.session_roles":   "joe",
		"session_syscall_error.joe": readlinkSyscall(),
		"wal_level":                 "logical",
	})
	ctx := context.Background()
	admin := connect(t, c, "")
	dir := createTablespace(t, c, admin, "regress_apply")
	mustExec(t, admin, "CREATE ROLE joe LOGIN")
	mustExec(t, admin, "CREATE TABLE replicated (i int PRIMARY KEY)")
	mustExec(t, admin, "CREATE PUBLICATION regress_pub FOR TABLE replicated")
	mustExec(t, admin, "SELECT pg_create_logical_replication_slot('regress_sub', 'pgoutput')")
	t.Cleanup(func() {
		// the subscription's worker holds the slot until it is dropped
		admin.Exec(context.Background(), "SELECT pg_drop_replication_slot('regress_sub')")
	})
	mustExec(t, admin, "CREATE DATABASE regress_subscriber")

	subAdmin, err := c.Connect(ctx, "", "regress_subscriber")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { subAdmin.Close(context.Background()) })
	mustExec(t, subAdmin, "GRANT CREATE ON SCHEMA public TO joe")
	joe, err := c.Connect(ctx, "joe", "regress_subscriber")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { joe.Close(context.Background()) })
	mustExec(t, joe, "CREATE TABLE replicated (i int PRIMARY KEY)")
	mustExec(t, joe, "CREATE TABLE seen (i int, location text)")
	mustExec(t, joe, `CREATE FUNCTION joe_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	location text;
BEGIN
	BEGIN
		location := pg_tablespace_location((SELECT oid FROM pg_tablespace WHERE spcname = 'regress_apply'));
	EXCEPTION WHEN others THEN
		location := 'denied';
	END;
	INSERT INTO public.seen VALUES (NEW.i, location); -- the apply worker runs with an empty search_path
	RETURN NEW;
END $$`)
	mustExec(t, joe, "CREATE TRIGGER joe_trigger AFTER INSERT ON replicated FOR EACH ROW EXECUTE FUNCTION joe_trigger()")
	mustExec(t, joe, "ALTER TABLE replicated ENABLE ALWAYS TRIGGER joe_trigger")
	mustExec(t, subAdmin, "CREATE SUBSCRIPTION regress_sub CONNECTION '"+c.ConnString("", "postgres")+
		"' PUBLICATION regress_pub WITH (create_slot = false, slot_name = 'regress_sub', copy_data = false)")
	t.Cleanup(func() {
		subAdmin.Exec(context.Background(), "ALTER SUBSCRIPTION regress_sub DISABLE")
		subAdmin.Exec(context.Background(), "ALTER SUBSCRIPTION regress_sub SET (slot_name = NONE)")
		subAdmin.Exec(context.Background(), "DROP SUBSCRIPTION regress_sub")
	})
	mustExec(t, admin, "INSERT INTO replicated VALUES (1)")

	var location string
	for deadline := time.Now().Add(90 * time.Second); location == "" && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err := joe.QueryRow(ctx, "SELECT coalesce(max(location), '') FROM seen").Scan(&location); err != nil {
			t.Fatal(err)
		}
	}
	switch {
	case location == "":
		t.Fatalf("the apply worker did not run the trigger within 90 s:\n%s", c.LogTail(40))
	case strings.Contains(location, dir):
		t.Errorf("the apply worker ran joe's trigger without joe's filter: it read the tablespace location %s", location)
	case location != "denied":
		t.Errorf("the trigger saw %q, want denied", location)
	}
	t.Logf("joe's trigger in the apply worker: %s", location)
}
