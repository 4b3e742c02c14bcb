package workload

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
)

// withExtensions creates the extensions that are installed (in the step's
// schema where they can be relocated), skipping and logging the others,
// and returns the ones created.
func withExtensions(ctx context.Context, r *runner, s *session, names ...string) (map[string]bool, error) {
	have := map[string]bool{}
	for _, name := range names {
		ok, err := hasExtension(ctx, s, name)
		if err != nil {
			return nil, err
		}
		if !ok {
			r.skipf("extension %s: not installed on this server", name)
			continue
		}
		if err := s.exec(ctx, `DROP EXTENSION IF EXISTS `+quoteIdent(name)+` CASCADE`, `CREATE EXTENSION `+quoteIdent(name)+` CASCADE`); err != nil {
			return nil, err
		}
		have[name] = true
	}
	return have, nil
}

// dropExtensions drops what withExtensions created.
func dropExtensions(ctx context.Context, s *session, have map[string]bool) error {
	for name := range have {
		if err := s.exec(ctx, `DROP EXTENSION IF EXISTS `+quoteIdent(name)+` CASCADE`); err != nil {
			return err
		}
	}
	return nil
}

// cryptoStep: pgcrypto's hashes, ciphers, password hashing, PGP and random
// bytes (OpenSSL in the backend).
func cryptoStep() Step {
	return step("contrib-pgcrypto", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		have, err := withExtensions(ctx, r, s, "pgcrypto")
		if err != nil || !have["pgcrypto"] {
			return err
		}
		if err := s.exec(ctx,
			`SELECT digest('abc', a) FROM unnest(ARRAY['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512']) a`,
			`SELECT hmac('abc', 'key', a) FROM unnest(ARRAY['md5', 'sha1', 'sha256', 'sha512']) a`,
			`SELECT crypt('secret', gen_salt('bf', 4)), crypt('secret', gen_salt('md5')), crypt('secret', gen_salt('xdes', 1)), crypt('secret', gen_salt('des'))`,
			`SELECT gen_random_bytes(64), gen_random_uuid()`,
			`SELECT decrypt(encrypt('data', 'key', 'aes'), 'key', 'aes'), decrypt_iv(encrypt_iv('data', 'key', '0123456789abcdef', 'aes-cbc'), 'key', '0123456789abcdef', 'aes-cbc')`,
			`SELECT pgp_sym_decrypt(pgp_sym_encrypt(repeat('secret text ', 1000), 'pw', 'cipher-algo=aes256, compress-algo=2, compress-level=9, s2k-mode=3'), 'pw')`,
			`SELECT pgp_sym_decrypt(pgp_sym_encrypt('secret', 'pw', 'cipher-algo=aes128, compress-algo=1, unicode-mode=1'), 'pw')`,
			`SELECT pgp_sym_decrypt_bytea(pgp_sym_encrypt_bytea('\x00ff'::bytea, 'pw', 'cipher-algo=3des'), 'pw')`,
			`SELECT dearmor(armor('\x0102'::bytea)), pgp_armor_headers(armor('\x01'::bytea, ARRAY['k'], ARRAY['v']))`,
		); err != nil {
			return err
		}
		// Ciphers OpenSSL 3 keeps in its legacy provider: they may be
		// refused, which is an answer too (external routine exception).
		for _, cipher := range []string{"bf", "cast5"} {
			_, err := s.conn.Exec(ctx, fmt.Sprintf(`SELECT pgp_sym_decrypt(pgp_sym_encrypt('x', 'pw', 'cipher-algo=%s'), 'pw')`, cipher))
			if err != nil && sqlState(err) != "39000" {
				return s.fail("pgp_sym_encrypt with cipher-algo="+cipher, err)
			}
		}
		return dropExtensions(ctx, s, have)
	})
}

// fdwStep: foreign data: postgres_fdw and dblink connecting back to this
// server (over its Unix socket and over TCP to "localhost", which resolves
// the name), async and batched foreign scans, parallel commit, IMPORT
// FOREIGN SCHEMA; file_fdw on a file and on a program.
func fdwStep() Step {
	return step("contrib-fdw-dblink", false, func(ctx context.Context, r *runner) error {
		dir, err := r.scratchDir(ctx)
		if err != nil {
			return err
		}
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		cfg, err := pgx.ParseConfig(r.t.ConnString(workDB))
		if err != nil {
			return r.errorf("parse the target's connection string: %v", err)
		}
		socket, port, user := cfg.Host, fmt.Sprint(cfg.Port), cfg.User
		listen, err := s.setting(ctx, "listen_addresses")
		if err != nil {
			return err
		}
		tcp := listen != "" && (listen == "*" || strings.Contains(listen, "localhost") || strings.Contains(listen, "127.0.0.1"))
		have, err := withExtensions(ctx, r, s, "postgres_fdw", "dblink", "file_fdw")
		if err != nil {
			return err
		}
		schema := r.schemaName()
		if err := s.exec(ctx,
			`CREATE TABLE remote_src (id int PRIMARY KEY, v text)`,
			`INSERT INTO remote_src SELECT g, md5(g::text) FROM generate_series(1, 5000) g`,
			`CREATE TABLE remote_dst (id int, v text)`,
		); err != nil {
			return err
		}
		if have["postgres_fdw"] {
			hosts := []string{socket}
			if tcp {
				hosts = append(hosts, "localhost")
			}
			for i, host := range hosts {
				srv := fmt.Sprintf("wl_loopback_%d", i)
				local := fmt.Sprintf("wl_foreign_%d", i)
				if err := s.exec(ctx,
					fmt.Sprintf(`CREATE SERVER %s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host %s, port %s, dbname %s, async_capable 'true', parallel_commit 'true', fetch_size '500', batch_size '100', application_name 'wl_fdw')`,
						srv, quoteLiteral(host), quoteLiteral(port), quoteLiteral(workDB)),
					fmt.Sprintf(`CREATE USER MAPPING FOR CURRENT_USER SERVER %s OPTIONS (user %s)`, srv, quoteLiteral(user)),
					`CREATE SCHEMA `+local,
					fmt.Sprintf(`IMPORT FOREIGN SCHEMA %s LIMIT TO (remote_src, remote_dst) FROM SERVER %s INTO %s`, quoteIdent(schema), srv, local),
					fmt.Sprintf(`SELECT count(*), max(v) FROM %s.remote_src WHERE id > 100`, local),
					fmt.Sprintf(`INSERT INTO %s.remote_dst SELECT * FROM %s.remote_src WHERE id <= 1000`, local, local),
					fmt.Sprintf(`UPDATE %s.remote_dst SET v = 'changed' WHERE id < 10`, local),
					fmt.Sprintf(`DELETE FROM %s.remote_dst WHERE id > 900`, local),
					fmt.Sprintf(`SELECT count(*) FROM %s.remote_src a JOIN %s.remote_dst b USING (id)`, local, local),
					fmt.Sprintf(`SELECT * FROM %s.remote_src UNION ALL SELECT * FROM %s.remote_dst LIMIT 5`, local, local),
					`BEGIN`,
					fmt.Sprintf(`INSERT INTO %s.remote_dst VALUES (-1, 'in a transaction')`, local),
					fmt.Sprintf(`SELECT count(*) FROM %s.remote_src`, local),
					`COMMIT`,
					fmt.Sprintf(`ANALYZE %s.remote_src`, local),
					`SELECT * FROM postgres_fdw_get_connections()`,
					fmt.Sprintf(`SELECT postgres_fdw_disconnect(%s)`, quoteLiteral(srv)),
				); err != nil {
					return err
				}
			}
			if err := s.exec(ctx, `SELECT postgres_fdw_disconnect_all()`); err != nil {
				return err
			}
		}
		if have["dblink"] {
			conn := fmt.Sprintf("host=%s port=%s dbname=%s user=%s", socket, port, workDB, user)
			if err := s.exec(ctx,
				`SELECT dblink_connect('wl', `+quoteLiteral(conn)+`)`,
				`SELECT * FROM dblink('wl', 'SELECT id, v FROM `+schema+`.remote_src LIMIT 10') AS t(id int, v text)`,
				`SELECT dblink_exec('wl', 'INSERT INTO `+schema+`.remote_dst VALUES (-2, ''dblink'')')`,
				`SELECT dblink_send_query('wl', 'SELECT pg_sleep(0.05), count(*) FROM `+schema+`.remote_src')`,
				`SELECT dblink_is_busy('wl')`,
				`SELECT * FROM dblink_get_result('wl') AS t(s text, n bigint)`,
				`SELECT * FROM dblink_get_result('wl') AS t(s text, n bigint)`,
				`SELECT dblink_open('wl', 'c', 'SELECT id FROM `+schema+`.remote_src')`,
				`SELECT * FROM dblink_fetch('wl', 'c', 5) AS t(id int)`,
				`SELECT dblink_close('wl', 'c')`,
				`SELECT dblink_get_connections()`,
				`SELECT dblink_disconnect('wl')`,
				`SELECT * FROM dblink(`+quoteLiteral(conn)+`, 'SELECT 1') AS t(x int)`,
			); err != nil {
				return err
			}
			// libpq looks a service up in LDAP (a server that is not there,
			// then it goes on without); PL/Perl's %ENV sets PGSERVICEFILE in
			// the backend, as contrib/dblink's own test does with regress.so.
			if ok, err := hasExtension(ctx, s, "plperlu"); err != nil {
				return err
			} else if ok {
				ldapPort, err := freePort()
				if err != nil {
					return r.errorf("%v", err)
				}
				serviceFile := filepath.Join(dir, "pg_service.conf")
				service := fmt.Sprintf("[wl_ldap]\nldap://127.0.0.1:%d/base?attribute?one?filter\n", ldapPort)
				if err := r.writeFile(ctx, serviceFile, []byte(service)); err != nil {
					return err
				}
				if err := s.exec(ctx,
					`CREATE EXTENSION IF NOT EXISTS plperlu`,
					`CREATE FUNCTION set_service_file(text) RETURNS void LANGUAGE plperlu AS $$ $ENV{PGSERVICEFILE} = $_[0]; $$`,
					`SELECT set_service_file(`+quoteLiteral(serviceFile)+`)`,
					`SELECT * FROM dblink(`+quoteLiteral("service=wl_ldap "+conn)+`, 'SELECT 1') AS t(x int)`,
				); err != nil {
					return err
				}
			}
		}
		if have["file_fdw"] {
			csv := filepath.Join(dir, "data.csv")
			if err := s.exec(ctx,
				`COPY remote_src TO `+quoteLiteral(csv)+` (FORMAT csv, HEADER)`,
				`CREATE SERVER wl_files FOREIGN DATA WRAPPER file_fdw`,
				`CREATE FOREIGN TABLE file_t (id int, v text) SERVER wl_files OPTIONS (filename `+quoteLiteral(csv)+`, format 'csv', header 'true')`,
				`SELECT count(*), max(v) FROM file_t`,
				`EXPLAIN (ANALYZE) SELECT * FROM file_t WHERE id < 10`,
				`ANALYZE file_t`,
			); err != nil {
				return err
			}
		}
		return dropExtensions(ctx, s, have)
	})
}

// contribTypesStep: contrib data types, index support and functions, each
// extension created and dropped; some read files from share/ (unaccent,
// dict_xsyn), uuid-ossp asks the system for a MAC address and a clock.
func contribTypesStep() Step {
	return step("contrib-types-functions", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		have, err := withExtensions(ctx, r, s,
			"hstore", "citext", "pg_trgm", "uuid-ossp", "btree_gist", "btree_gin", "intarray", "ltree",
			"cube", "earthdistance", "tablefunc", "unaccent", "fuzzystrmatch", "isn", "seg", "lo",
			"tsm_system_rows", "tsm_system_time", "dict_int", "dict_xsyn", "bloom", "tcn", "refint",
			"autoinc", "moddatetime", "insert_username", "xml2")
		if err != nil {
			return err
		}
		uses := map[string][]string{
			"hstore": {
				`SELECT 'a=>1, b=>2'::hstore -> 'a', hstore(ARRAY['x', 'y'], ARRAY['1', '2']) || 'z=>3', akeys('a=>1'::hstore), each('k=>v'::hstore)`,
				`CREATE TABLE h (kv hstore)`,
				`INSERT INTO h SELECT hstore('k' || g, g::text) FROM generate_series(1, 1000) g`,
				`CREATE INDEX ON h USING gist (kv)`,
				`CREATE INDEX ON h USING gin (kv)`,
				`SELECT count(*) FROM h WHERE kv ? 'k5'`,
			},
			"citext": {`SELECT 'Hello'::citext = 'hELLO', 'ß'::citext = 'SS'`},
			"pg_trgm": {
				`CREATE TABLE trg (t text)`,
				`INSERT INTO trg SELECT md5(g::text) FROM generate_series(1, 2000) g`,
				`CREATE INDEX ON trg USING gin (t gin_trgm_ops)`,
				`CREATE INDEX ON trg USING gist (t gist_trgm_ops)`,
				`SELECT t, similarity(t, 'abc123') FROM trg WHERE t % 'abc123' OR t LIKE '%ab1%' ORDER BY t <-> 'abc' LIMIT 5`,
				`SELECT show_trgm('word'), word_similarity('word', 'two words')`,
			},
			"uuid-ossp": {`SELECT uuid_generate_v1(), uuid_generate_v1mc(), uuid_generate_v3(uuid_ns_url(), 'http://x'), uuid_generate_v4(), uuid_generate_v5(uuid_ns_dns(), 'x.org')`},
			"btree_gist": {
				`CREATE TABLE bg (id int, during tsrange, EXCLUDE USING gist (id WITH =, during WITH &&))`,
				`INSERT INTO bg VALUES (1, '[2024-01-01, 2024-02-01)'), (1, '[2024-02-01, 2024-03-01)')`,
			},
			"btree_gin": {`CREATE TABLE bgin (a int, b text)`, `CREATE INDEX ON bgin USING gin (a, b)`, `INSERT INTO bgin SELECT g, g::text FROM generate_series(1, 1000) g`, `SELECT count(*) FROM bgin WHERE a = 5`},
			"intarray":  {`SELECT ARRAY[1, 2, 3] & ARRAY[2, 3, 4], sort(ARRAY[3, 1, 2]), uniq(ARRAY[1, 1, 2]), icount(ARRAY[1, 2]), '{1,2}'::int[] @@ '1&2'::query_int`},
			"ltree":     {`SELECT 'Top.Science.Astronomy'::ltree <@ 'Top.Science', subltree('a.b.c.d', 1, 3), 'a.b.c'::ltree ~ '*.b.*'::lquery, lca('1.2.3'::ltree, '1.2.4'::ltree)`},
			"cube":      {`SELECT cube(1, 2) <-> cube(4, 6), cube_union('(1,2)', '(3,4)')`},
			"earthdistance": {
				`SELECT earth_distance(ll_to_earth(52.5, 13.4), ll_to_earth(48.8, 2.3)), point(13.4, 52.5) <@> point(2.3, 48.8)`,
			},
			"tablefunc": {
				`SELECT * FROM crosstab('SELECT g % 3, g % 2, g FROM generate_series(1, 10) g ORDER BY 1, 2') AS ct(r int, a int, b int)`,
				`SELECT count(*) FROM normal_rand(1000, 5, 3)`,
				`CREATE TABLE tree (id int, parent int)`,
				`INSERT INTO tree VALUES (1, NULL), (2, 1), (3, 1), (4, 2)`,
				`SELECT * FROM connectby('tree', 'id', 'parent', '1', 0) AS t(id int, parent int, level int)`,
			},
			"unaccent":      {`SELECT unaccent('Hôtel Crème Brûlée Ærø'), ts_lexize('unaccent', 'Ĥéllò')`},
			"fuzzystrmatch": {`SELECT levenshtein('kitten', 'sitting'), soundex('Robert'), metaphone('Thompson', 10), dmetaphone('Schmidt'), difference('Anne', 'Ann')`},
			"isn":           {`SELECT '978-0-393-04002-9'::isbn13, is_valid('0-393-04002-X'::isbn)`},
			"seg":           {`SELECT '1.5 .. 3.2'::seg @> '2'::seg`},
			"lo": {
				`CREATE TABLE lo_docs (id int, raster lo)`,
				`CREATE TRIGGER t_raster BEFORE UPDATE OR DELETE ON lo_docs FOR EACH ROW EXECUTE FUNCTION lo_manage(raster)`,
				`INSERT INTO lo_docs VALUES (1, lo_from_bytea(0, 'image'))`,
				`UPDATE lo_docs SET raster = lo_from_bytea(0, 'new image')`,
				`DELETE FROM lo_docs`,
			},
			"tsm_system_rows": {`SELECT count(*) FROM (SELECT * FROM pg_class TABLESAMPLE system_rows(10)) t`},
			"tsm_system_time": {`SELECT count(*) FROM (SELECT * FROM pg_attribute TABLESAMPLE system_time(5)) t`},
			"dict_int":        {`SELECT ts_lexize('intdict', '12345678')`},
			"dict_xsyn":       {`ALTER TEXT SEARCH DICTIONARY xsyn (RULES = 'xsyn_sample', KEEPORIG = true)`, `SELECT ts_lexize('xsyn', 'supernova')`},
			"bloom": {
				`CREATE TABLE bl (a int, b int, c int)`,
				`INSERT INTO bl SELECT g, g % 7, g % 11 FROM generate_series(1, 5000) g`,
				`CREATE INDEX ON bl USING bloom (a, b, c) WITH (length = 80)`,
				`SET enable_seqscan = off`,
				`SELECT count(*) FROM bl WHERE b = 3 AND c = 4`,
				`RESET enable_seqscan`,
			},
			"tcn": {
				`CREATE TABLE tcn_t (id int PRIMARY KEY)`,
				`CREATE TRIGGER tcn_trg AFTER INSERT OR UPDATE OR DELETE ON tcn_t FOR EACH ROW EXECUTE FUNCTION triggered_change_notification('wl_tcn')`,
				`LISTEN wl_tcn`,
				`INSERT INTO tcn_t VALUES (1), (2)`,
				`UNLISTEN wl_tcn`,
			},
			"refint": {
				// check_primary_key must be an AFTER trigger from 18 on;
				// earlier majors take either.
				`CREATE TABLE ri_pk (id int PRIMARY KEY)`,
				`CREATE TABLE ri_fk (ref int)`,
				`CREATE TRIGGER ri_check AFTER INSERT OR UPDATE ON ri_fk FOR EACH ROW EXECUTE FUNCTION check_primary_key('ref', 'ri_pk', 'id')`,
				`INSERT INTO ri_pk VALUES (1)`,
				`INSERT INTO ri_fk VALUES (1)`,
			},
			"autoinc": {
				`CREATE SEQUENCE ai_seq`,
				`CREATE TABLE ai (id int, v text)`,
				`CREATE TRIGGER ai_trg BEFORE INSERT ON ai FOR EACH ROW EXECUTE FUNCTION autoinc(id, ai_seq)`,
				`INSERT INTO ai (v) VALUES ('x')`,
			},
			"moddatetime": {
				`CREATE TABLE md (id int, changed timestamp)`,
				`CREATE TRIGGER md_trg BEFORE UPDATE ON md FOR EACH ROW EXECUTE FUNCTION moddatetime(changed)`,
				`INSERT INTO md VALUES (1, NULL)`,
				`UPDATE md SET id = 2`,
			},
			"insert_username": {
				`CREATE TABLE iu (id int, who text)`,
				`CREATE TRIGGER iu_trg BEFORE INSERT ON iu FOR EACH ROW EXECUTE FUNCTION insert_username(who)`,
				`INSERT INTO iu (id) VALUES (1)`,
			},
			"xml2": {
				`SELECT xpath_string('<a><b>text</b></a>', '/a/b'), xpath_number('<a>5</a>', '/a'), xpath_bool('<a/>', '/a'), xpath_list('<a><b>1</b><b>2</b></a>', '/a/b')`,
				`CREATE TABLE xdocs (id int, doc text)`,
				`INSERT INTO xdocs VALUES (1, '<doc><t>one</t></doc>'), (2, '<doc><t>two</t></doc>')`,
				`SELECT * FROM xpath_table('id', 'doc', 'xdocs', '/doc/t', 'true') AS t(id int, t text)`,
				`SELECT xslt_process('<a>x</a>', '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:param name="p"/><xsl:template match="/"><r><xsl:value-of select="a"/><xsl:value-of select="$p"/></r></xsl:template></xsl:stylesheet>', 'p=''v''')`,
			},
		}
		for _, name := range slices.Sorted(maps.Keys(have)) {
			if err := s.exec(ctx, uses[name]...); err != nil {
				return err
			}
		}
		return dropExtensions(ctx, s, have)
	})
}

// inspectionStep: the extensions a DBA uses to look inside: buffers, pages,
// tuples, visibility, free space, row locks, WAL records (read from the
// segment files by the backend), index checks, statement statistics,
// auto_explain, passwordcheck.
func inspectionStep() Step {
	return step("contrib-inspection-amcheck-stats", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		have, err := withExtensions(ctx, r, s,
			"pg_buffercache", "pgstattuple", "pageinspect", "amcheck", "pg_visibility", "pg_walinspect",
			"pg_freespacemap", "pgrowlocks", "old_snapshot")
		if err != nil {
			return err
		}
		if err := s.exec(ctx,
			`CREATE TABLE ins (id int PRIMARY KEY, t text, arr int[], rng int4range)`,
			`INSERT INTO ins SELECT g, md5(g::text), ARRAY[g % 5], int4range(g, g + 5) FROM generate_series(1, 5000) g`,
			`CREATE INDEX ins_gin ON ins USING gin (arr)`,
			`CREATE INDEX ins_gist ON ins USING gist (rng)`,
			`CREATE INDEX ins_hash ON ins USING hash (t)`,
			`CREATE INDEX ins_brin ON ins USING brin (id)`,
			`DELETE FROM ins WHERE id % 10 = 0`,
			`VACUUM ins`,
		); err != nil {
			return err
		}
		uses := map[string][]string{
			"pg_buffercache": {`SELECT count(*) FROM pg_buffercache WHERE relfilenode IS NOT NULL`},
			"pgstattuple": {
				`SELECT * FROM pgstattuple('ins')`, `SELECT * FROM pgstattuple_approx('ins')`, `SELECT * FROM pgstatindex('ins_pkey')`,
				`SELECT * FROM pgstatginindex('ins_gin')`, `SELECT * FROM pgstathashindex('ins_hash')`, `SELECT pg_relpages('ins')`,
			},
			"pageinspect": {
				`SELECT count(*) FROM heap_page_items(get_raw_page('ins', 0))`,
				`SELECT * FROM page_header(get_raw_page('ins', 'main', 1))`,
				`SELECT * FROM bt_metap('ins_pkey')`, `SELECT count(*) FROM bt_page_items('ins_pkey', 1)`,
				`SELECT * FROM brin_metapage_info(get_raw_page('ins_brin', 0))`,
				`SELECT * FROM gin_metapage_info(get_raw_page('ins_gin', 0))`,
				`SELECT count(*) FROM gist_page_items(get_raw_page('ins_gist', 0), 'ins_gist')`,
				`SELECT * FROM hash_metapage_info(get_raw_page('ins_hash', 0))`,
				`SELECT fsm_page_contents(get_raw_page('ins', 'fsm', 0)) IS NOT NULL`,
				`SELECT page_checksum(get_raw_page('ins', 0), 0)`,
			},
			"amcheck": {
				`SELECT bt_index_check('ins_pkey', true)`,
				`SELECT bt_index_parent_check('ins_pkey', true, true)`,
				`SELECT count(*) FROM verify_heapam('ins', check_toast => true)`,
			},
			"pg_visibility": {`SELECT * FROM pg_visibility_map_summary('ins')`, `SELECT count(*) FROM pg_check_visible('ins')`, `SELECT count(*) FROM pg_visibility('ins')`},
			"pg_walinspect": {
				`SELECT count(*) FROM pg_get_wal_records_info((SELECT redo_lsn FROM pg_control_checkpoint()), pg_current_wal_flush_lsn())`,
				`SELECT count(*) FROM pg_get_wal_stats((SELECT redo_lsn FROM pg_control_checkpoint()), pg_current_wal_flush_lsn(), true)`,
				`SELECT * FROM pg_get_wal_record_info((SELECT redo_lsn FROM pg_control_checkpoint()))`,
			},
			"pg_freespacemap": {`SELECT count(*) FROM pg_freespace('ins')`, `SELECT pg_freespace('ins', 0)`},
			"pgrowlocks":      {`SELECT * FROM pgrowlocks('ins')`},
			"old_snapshot":    {`SELECT count(*) FROM pg_old_snapshot_time_mapping()`},
		}
		for _, name := range slices.Sorted(maps.Keys(have)) {
			if err := s.exec(ctx, uses[name]...); err != nil {
				return err
			}
		}
		// 18's NUMA views ask the kernel on which node each shared memory
		// page is (libnuma: get_mempolicy, move_pages).
		major, err := cluster.ConnMajor(ctx, s.conn)
		if err != nil {
			return err
		}
		if major >= 18 {
			numa, err := s.bool(ctx, `SELECT pg_numa_available()`)
			if err != nil {
				return err
			}
			if !numa {
				r.skipf("NUMA: pg_numa_available() is false on this machine")
			} else {
				queries := []string{`SELECT count(*) FROM pg_shmem_allocations_numa`}
				if have["pg_buffercache"] {
					queries = append(queries, `SELECT count(*) FROM pg_buffercache_numa`)
				}
				if err := s.exec(ctx, queries...); err != nil {
					return err
				}
			}
		}
		// pg_stat_statements keeps query texts in a file the backend reads.
		preloaded, err := s.bool(ctx, `SELECT current_setting('shared_preload_libraries') ~ 'pg_stat_statements'`)
		if err != nil {
			return err
		}
		if preloaded {
			pgss, err := withExtensions(ctx, r, s, "pg_stat_statements")
			if err != nil {
				return err
			}
			if pgss["pg_stat_statements"] {
				if err := s.exec(ctx,
					`SELECT count(*), sum(calls) FROM pg_stat_statements`,
					`SELECT count(*) FROM pg_stat_statements(false)`,
					`SELECT * FROM pg_stat_statements_info`,
					`SELECT pg_stat_statements_reset()`,
					`SELECT count(*) FROM pg_stat_statements WHERE query LIKE '%pg_stat_statements%'`,
				); err != nil {
					return err
				}
				if err := dropExtensions(ctx, s, pgss); err != nil {
					return err
				}
			}
		} else {
			r.skipf("pg_stat_statements: not in shared_preload_libraries")
		}
		// auto_explain loaded into the session, logging plans with timing.
		if err := s.exec(ctx,
			`LOAD 'auto_explain'`,
			`SET auto_explain.log_min_duration = 0`,
			`SET auto_explain.log_analyze = on`,
			`SET auto_explain.log_buffers = on`,
			`SET auto_explain.log_wal = on`,
			`SET auto_explain.log_nested_statements = on`,
			`SET auto_explain.log_format = 'json'`,
			`SELECT count(*) FROM ins a JOIN ins b USING (id) WHERE a.t > 'a'`,
			`DO $$ BEGIN PERFORM count(*) FROM ins; END $$`,
			`SET auto_explain.log_min_duration = -1`,
			// passwordcheck, loaded into the session, rejects a weak password.
			`LOAD 'passwordcheck'`,
			`DROP ROLE IF EXISTS `+prefix+`weak`,
		); err != nil {
			return err
		}
		if err := s.expectError(ctx, "22023", `CREATE ROLE `+prefix+`weak PASSWORD 'weak'`); err != nil {
			return err
		}
		if err := s.expectError(ctx, "58P01", `LOAD 'no_such_library_`+prefix+`'`); err != nil {
			return err
		}
		if err := s.exec(ctx, `DROP TABLE ins`); err != nil {
			return err
		}
		return dropExtensions(ctx, s, have)
	})
}
