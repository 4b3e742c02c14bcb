package workload

import (
	"context"
)

// plpgsqlStep: PL/pgSQL and SQL functions, DO blocks, exceptions, cursors,
// dynamic SQL, triggers, event triggers, procedures with transaction
// control, and running out of stack.
func plpgsqlStep() Step {
	return step("plpgsql-functions-procedures", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		if err := s.exec(ctx,
			`CREATE TABLE acct (id int PRIMARY KEY, balance numeric NOT NULL DEFAULT 0, updated timestamptz)`,
			`INSERT INTO acct SELECT g, g * 10 FROM generate_series(1, 1000) g`,
			`CREATE FUNCTION transfer(src int, dst int, amount numeric) RETURNS numeric LANGUAGE plpgsql AS $$
			 DECLARE left_over acct.balance%TYPE;
			 BEGIN
			   UPDATE acct SET balance = balance - amount WHERE id = src RETURNING balance INTO STRICT left_over;
			   IF left_over < 0 THEN RAISE EXCEPTION 'insufficient funds in %', src USING ERRCODE = 'P0001', HINT = 'add money'; END IF;
			   UPDATE acct SET balance = balance + amount WHERE id = dst;
			   RETURN left_over;
			 END $$`,
			`CREATE FUNCTION safe_transfer(src int, dst int, amount numeric, OUT ok bool, OUT msg text) LANGUAGE plpgsql AS $$
			 DECLARE st text; det text;
			 BEGIN
			   PERFORM transfer(src, dst, amount); ok := true; msg := 'done';
			 EXCEPTION WHEN raise_exception THEN
			   GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, det = PG_EXCEPTION_HINT;
			   ok := false; msg := st || ': ' || SQLERRM || ' / ' || det;
			 END $$`,
			`SELECT * FROM safe_transfer(1, 2, 5) a, safe_transfer(3, 4, 1000000) b`,
			`CREATE FUNCTION report(min_balance numeric DEFAULT 0, VARIADIC ids int[] DEFAULT '{}') RETURNS TABLE (id int, balance numeric) LANGUAGE plpgsql STABLE AS $$
			 DECLARE r record; c refcursor; q text;
			 BEGIN
			   q := format('SELECT id, balance FROM %I WHERE balance >= $1 ORDER BY id', 'acct');
			   FOR r IN EXECUTE q USING min_balance LOOP
			     CONTINUE WHEN cardinality(ids) > 0 AND NOT r.id = ANY (ids);
			     id := r.id; balance := r.balance; RETURN NEXT;
			     EXIT WHEN r.id > 500;
			   END LOOP;
			   OPEN c FOR SELECT a.id, a.balance FROM acct a WHERE a.id > 990;
			   LOOP FETCH c INTO id, balance; EXIT WHEN NOT FOUND; RETURN NEXT; END LOOP;
			   MOVE BACKWARD ALL FROM c;
			   CLOSE c;
			   RETURN QUERY SELECT a.id, a.balance FROM acct a WHERE a.id = 1;
			 END $$`,
			`SELECT count(*) FROM report(100)`,
			`SELECT count(*) FROM report(0, 1, 2, 3)`,
			`CREATE FUNCTION poly(a anycompatible, b anycompatible) RETURNS anycompatiblearray LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$ BEGIN RETURN ARRAY[a, b]; END $$`,
			`SELECT poly(1, 2.5), poly('a'::text, 'b')`,
			`CREATE FUNCTION open_cursor(name refcursor) RETURNS refcursor LANGUAGE plpgsql AS $$ BEGIN OPEN name SCROLL FOR SELECT * FROM acct; RETURN name; END $$`,
			`BEGIN`,
			`SELECT open_cursor('cur')`,
			`FETCH LAST FROM cur`,
			`COMMIT`,
			`DO $$
			 DECLARE arr int[] := ARRAY[1, 2, 3]; x int; total int := 0; rec acct%ROWTYPE; n bigint;
			 BEGIN
			   FOREACH x IN ARRAY arr LOOP total := total + x; END LOOP;
			   FOR i IN REVERSE 10..1 BY 3 LOOP total := total + i; END LOOP;
			   SELECT * INTO rec FROM acct WHERE id = 7;
			   CASE WHEN rec.balance > 50 THEN total := total * 2; ELSE NULL; END CASE;
			   WHILE total > 100 LOOP total := total / 2; END LOOP;
			   EXECUTE 'CREATE TEMP TABLE dyn_' || total || ' (a int)';
			   EXECUTE format('INSERT INTO %I SELECT generate_series(1, $1)', 'dyn_' || total) USING 100;
			   GET DIAGNOSTICS n = ROW_COUNT;
			   ASSERT n = 100, 'row count';
			   RAISE NOTICE 'total % rows %', total, n;
			   BEGIN
			     PERFORM 1 / 0;
			   EXCEPTION WHEN division_by_zero THEN RAISE WARNING 'caught %', SQLERRM;
			   END;
			 END $$`,
			// Triggers of every kind, on tables and views.
			`CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated := clock_timestamp(); RETURN NEW; END $$`,
			`CREATE TRIGGER acct_touch BEFORE UPDATE ON acct FOR EACH ROW WHEN (OLD.balance IS DISTINCT FROM NEW.balance) EXECUTE FUNCTION touch()`,
			`CREATE VIEW acct_view AS SELECT id, balance FROM acct`,
			`CREATE FUNCTION view_upd() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE acct SET balance = NEW.balance WHERE id = OLD.id; RETURN NEW; END $$`,
			`CREATE TRIGGER acct_view_upd INSTEAD OF UPDATE ON acct_view FOR EACH ROW EXECUTE FUNCTION view_upd()`,
			`UPDATE acct_view SET balance = balance + 1 WHERE id <= 100`,
			`CREATE FUNCTION no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'truncating %', TG_TABLE_NAME; RETURN NULL; END $$`,
			`CREATE TRIGGER acct_truncate BEFORE TRUNCATE ON acct FOR EACH STATEMENT EXECUTE FUNCTION no_truncate()`,
			// Event triggers.
			`CREATE FUNCTION log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
			 DECLARE r record;
			 BEGIN
			   IF TG_EVENT = 'ddl_command_end' THEN
			     FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP RAISE NOTICE 'ddl: % %', r.command_tag, r.object_identity; END LOOP;
			   ELSIF TG_EVENT = 'sql_drop' THEN
			     FOR r IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP RAISE NOTICE 'dropped: %', r.object_identity; END LOOP;
			   ELSIF TG_EVENT = 'table_rewrite' THEN
			     RAISE NOTICE 'rewrite of % (%)', pg_event_trigger_table_rewrite_oid()::regclass, pg_event_trigger_table_rewrite_reason();
			   ELSE
			     RAISE NOTICE 'event % tag %', TG_EVENT, TG_TAG;
			   END IF;
			 END $$`,
			`DROP EVENT TRIGGER IF EXISTS wl_ddl_start`,
			`DROP EVENT TRIGGER IF EXISTS wl_ddl_end`,
			`DROP EVENT TRIGGER IF EXISTS wl_drop`,
			`DROP EVENT TRIGGER IF EXISTS wl_rewrite`,
			`CREATE EVENT TRIGGER wl_ddl_start ON ddl_command_start EXECUTE FUNCTION log_ddl()`,
			`CREATE EVENT TRIGGER wl_ddl_end ON ddl_command_end EXECUTE FUNCTION log_ddl()`,
			`CREATE EVENT TRIGGER wl_drop ON sql_drop EXECUTE FUNCTION log_ddl()`,
			`CREATE EVENT TRIGGER wl_rewrite ON table_rewrite EXECUTE FUNCTION log_ddl()`,
			`CREATE TABLE ev (a int)`,
			`ALTER TABLE ev ALTER COLUMN a TYPE bigint`,
			`DROP TABLE ev`,
			`ALTER EVENT TRIGGER wl_ddl_start DISABLE`,
			`DROP EVENT TRIGGER wl_ddl_start`,
			`DROP EVENT TRIGGER wl_ddl_end`,
			`DROP EVENT TRIGGER wl_drop`,
			`DROP EVENT TRIGGER wl_rewrite`,
			// SQL functions: inlined, set-returning, standard-conforming bodies.
			`CREATE FUNCTION add_sql(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE RETURN a + b`,
			`CREATE FUNCTION rich(min numeric) RETURNS SETOF acct LANGUAGE sql STABLE AS 'SELECT * FROM acct WHERE balance > min'`,
			`CREATE FUNCTION atomic_count() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(*) FROM acct; END`,
			`SELECT add_sql(1, 2), (SELECT count(*) FROM rich(5000)), atomic_count()`,
			`CREATE FUNCTION definer() RETURNS text LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog SET work_mem = '2MB' AS 'SELECT current_user || current_setting(''work_mem'')'`,
			`SELECT definer()`,
			// Procedures that commit and roll back inside.
			`CREATE PROCEDURE batch_update(INOUT done int DEFAULT 0) LANGUAGE plpgsql AS $$
			 BEGIN
			   FOR i IN 1..10 LOOP
			     UPDATE acct SET balance = balance + 1 WHERE id % 10 = i - 1;
			     IF i % 3 = 0 THEN ROLLBACK; ELSE COMMIT; END IF;
			     done := done + 1;
			   END LOOP;
			 END $$`,
			`CALL batch_update()`,
			`CREATE PROCEDURE outer_proc() LANGUAGE plpgsql AS $$ DECLARE d int; BEGIN CALL batch_update(d); COMMIT; END $$`,
			`CALL outer_proc()`,
			`DO $$ BEGIN FOR i IN 1..3 LOOP INSERT INTO acct VALUES (2000 + i); COMMIT; END LOOP; END $$`,
			// Deep recursion ends in "stack depth limit exceeded".
			`CREATE FUNCTION recurse(n int) RETURNS int LANGUAGE sql AS 'SELECT recurse(n + 1)'`,
			`SET plpgsql.check_asserts = on`,
			`SET plpgsql.extra_warnings = 'all'`,
		); err != nil {
			return err
		}
		// A smaller stack limit: the same path, a shorter error context.
		if err := s.exec(ctx, `SET max_stack_depth = '256kB'`); err != nil {
			return err
		}
		if err := s.expectError(ctx, "54001", `SELECT recurse(1)`); err != nil {
			return err
		}
		if err := s.expectError(ctx, "P0001", `SELECT transfer(5, 6, 99999999)`); err != nil {
			return err
		}
		return s.exec(ctx, `RESET max_stack_depth`, `DROP TABLE acct CASCADE`)
	})
}

// plperlStep: PL/Perl, trusted and untrusted: the interpreter's start, SPI,
// triggers, Unicode tables read on demand, XS modules loaded from disk,
// files and child processes from plperlu, transforms.
func plperlStep() Step {
	return step("plperl", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		if ok, err := hasExtension(ctx, s, "plperl"); err != nil {
			return err
		} else if !ok {
			r.skipf("PL/Perl: the plperl extension is not installed")
			return nil
		}
		schema := quoteIdent(r.schemaName())
		forceParallel, err := s.forceParallelSetting(ctx)
		if err != nil {
			return err
		}
		if err := s.exec(ctx,
			`CREATE EXTENSION IF NOT EXISTS plperl`,
			`CREATE EXTENSION IF NOT EXISTS plperlu`,
			`CREATE TABLE pl (id int PRIMARY KEY, name text, tags text[], doc jsonb)`,
			`INSERT INTO pl SELECT g, 'name ' || g, ARRAY['a', 'b' || g], jsonb_build_object('g', g) FROM generate_series(1, 500) g`,
			`CREATE FUNCTION perl_words(text) RETURNS SETOF text LANGUAGE plperl AS $$
			   my ($s) = @_;
			   return_next($_) for grep { /\p{L}/ } split /\s+/, $s;
			   return undef;
			 $$`,
			`SELECT perl_words('Grüße aus Köln 42 ünïcödé ΑΒΓ')`,
			// A Perl interpreter started in a parallel worker.
			`ALTER FUNCTION perl_words(text) PARALLEL SAFE`,
			`SET `+forceParallel+` = on`,
			`SELECT perl_words('in a parallel worker')`,
			`RESET `+forceParallel,
			`CREATE FUNCTION perl_spi(int) RETURNS int LANGUAGE plperl AS $$
			   my $rv = spi_exec_query("SELECT count(*) AS n FROM pl WHERE id <= $_[0]");
			   my $plan = spi_prepare('SELECT name FROM pl WHERE id = $1', 'int');
			   my $row = spi_exec_prepared($plan, 1)->{rows}[0];
			   spi_freeplan($plan);
			   my $cursor = spi_query("SELECT id FROM pl");
			   my $sum = 0;
			   while (defined(my $r = spi_fetchrow($cursor))) { $sum += $r->{id}; }
			   $_SHARED{calls}++;
			   elog(NOTICE, "perl: $row->{name} $sum");
			   return $rv->{rows}[0]{n};
			 $$`,
			`SELECT perl_spi(100)`,
			`CREATE FUNCTION perl_record(int) RETURNS pl LANGUAGE plperl AS $$
			   return { id => $_[0], name => uc("row $_[0]"), tags => ['x', 'y'], doc => '{"perl": true}' };
			 $$`,
			`SELECT * FROM perl_record(7)`,
			`CREATE FUNCTION perl_trigger() RETURNS trigger LANGUAGE plperl AS $$
			   $_TD->{new}{name} = lc $_TD->{new}{name} if $_TD->{event} eq 'UPDATE';
			   return 'MODIFY';
			 $$`,
			`CREATE TRIGGER pl_trg BEFORE UPDATE ON pl FOR EACH ROW EXECUTE FUNCTION perl_trigger()`,
			`UPDATE pl SET name = 'UPPER' WHERE id < 10`,
			`CREATE FUNCTION perl_die() RETURNS int LANGUAGE plperl AS $$ my $x = eval { die "inner\n" }; die "outer: $@" $$`,
			`DO LANGUAGE plperl $$ my %h = map { $_ => sprintf('%05.2f', sqrt($_)) } 1..1000; elog(INFO, scalar(keys %h)); $$`,
			// plperlu: modules from disk (XS ones are shared libraries),
			// files, the clock, the time zone, child processes.
			`CREATE FUNCTION perlu_env() RETURNS text LANGUAGE plperlu AS $$
			   use POSIX qw(strftime floor);
			   use Data::Dumper;
			   use Digest::MD5 qw(md5_hex);
			   use Encode qw(encode decode);
			   use Time::HiRes qw(time sleep);
			   use File::Temp ();
			   use List::Util qw(sum max);
			   open(my $fh, '<', 'PG_VERSION') or die "PG_VERSION: $!";
			   my $version = <$fh>; close $fh;
			   opendir(my $dh, '.') or die; my @entries = readdir($dh); closedir $dh;
			   my @st = stat('postgresql.conf');
			   sleep(0.01);
			   my $out = 'child'; # no programs: a session that runs them needs execve
			   my $local = strftime('%Y-%m-%d %Z', localtime(time));
			   my $bytes = encode('UTF-16', decode('UTF-8', 'caf\xc3\xa9'));
			   return join ' ', md5_hex($version), scalar(@entries), $st[7] > 0 ? 'stat' : '', $out, $local,
			     length($bytes), sum(1..10), Dumper([1])
			 $$`,
			`SELECT perlu_env()`,
			`SELECT count(*) FROM pg_stat_user_functions`,
		); err != nil {
			return err
		}
		if err := s.expectError(ctx, "38000", `SELECT perl_die()`); err != nil {
			return err
		}
		// Transforms between Perl and SQL types.
		for _, ext := range []string{"bool_plperl", "jsonb_plperl"} {
			if ok, err := hasExtension(ctx, s, ext); err != nil {
				return err
			} else if !ok {
				continue
			}
			if err := s.exec(ctx, `CREATE EXTENSION IF NOT EXISTS `+ext+` SCHEMA `+schema); err != nil {
				return err
			}
		}
		return s.exec(ctx,
			`CREATE FUNCTION perl_jsonb(jsonb) RETURNS jsonb LANGUAGE plperl TRANSFORM FOR TYPE jsonb AS $$ my $h = shift; $h->{perl} = 1; return $h; $$`,
			`SELECT perl_jsonb(doc) FROM pl LIMIT 3`,
			`CREATE FUNCTION perl_bool(bool) RETURNS bool LANGUAGE plperl TRANSFORM FOR TYPE bool AS $$ return !$_[0]; $$`,
			`SELECT perl_bool(true)`,
			`DROP TABLE pl CASCADE`,
		)
	})
}
