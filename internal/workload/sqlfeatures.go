package workload

import (
	"context"
	"fmt"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
)

// ddlStep: the DDL and DML a schema's life is made of.
func ddlStep() Step {
	return step("ddl-dml", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		return s.exec(ctx,
			// Types, domains, sequences.
			`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`,
			`ALTER TYPE mood ADD VALUE 'ecstatic' AFTER 'happy'`,
			`CREATE TYPE pair AS (a int, b text)`,
			`CREATE DOMAIN posint AS int CHECK (VALUE > 0)`,
			`CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi)`,
			`CREATE SEQUENCE seq CACHE 10`,
			`CREATE SEQUENCE seq_cycle MINVALUE 1 MAXVALUE 3 CYCLE`,
			`SELECT nextval('seq'), nextval('seq_cycle'), nextval('seq_cycle'), nextval('seq_cycle'), nextval('seq_cycle')`,
			`SELECT setval('seq', 1000), currval('seq'), lastval()`,
			`ALTER SEQUENCE seq RESTART WITH 5 INCREMENT BY 2`,
			`CREATE UNLOGGED SEQUENCE seq_unlogged`,
			`SELECT nextval('seq_unlogged')`,
			// Tables with constraints, identity and generated columns, FKs.
			`CREATE TABLE customer (
				id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
				name text NOT NULL UNIQUE,
				m mood DEFAULT 'ok',
				score posint,
				p pair,
				created timestamptz DEFAULT now(),
				name_upper text GENERATED ALWAYS AS (upper(name)) STORED,
				CHECK (length(name) < 100))`,
			`CREATE TABLE orders (
				id bigserial PRIMARY KEY,
				customer_id int REFERENCES customer ON DELETE CASCADE ON UPDATE CASCADE,
				amount numeric(12,2) NOT NULL DEFAULT 0,
				note text,
				during tstzrange,
				EXCLUDE USING gist (during WITH &&) WHERE (amount > 1000)) WITH (fillfactor = 70)`,
			`CREATE TABLE audit (at timestamptz DEFAULT clock_timestamp(), op text, row_data jsonb)`,
			`INSERT INTO customer (name, score, p) SELECT 'c' || g, g, ROW(g, 'x' || g)::pair FROM generate_series(1, 2000) g`,
			`INSERT INTO orders (customer_id, amount, note) SELECT 1 + g % 2000, g % 997, repeat('n', g % 50) FROM generate_series(1, 20000) g`,
			// Triggers (row, statement, transition tables, deferred constraint), rules.
			`CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
			 BEGIN INSERT INTO audit (op, row_data) VALUES (TG_OP, to_jsonb(coalesce(NEW, OLD))); RETURN coalesce(NEW, OLD); END $$`,
			`CREATE TRIGGER customer_audit AFTER INSERT OR UPDATE OR DELETE ON customer FOR EACH ROW EXECUTE FUNCTION audit_row()`,
			`CREATE FUNCTION count_new() RETURNS trigger LANGUAGE plpgsql AS $$
			 BEGIN INSERT INTO audit (op, row_data) SELECT 'batch', jsonb_build_object('n', count(*)) FROM new_rows; RETURN NULL; END $$`,
			`CREATE TRIGGER orders_batch AFTER INSERT ON orders REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_new()`,
			`CREATE CONSTRAINT TRIGGER customer_deferred AFTER UPDATE ON customer DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_row()`,
			`CREATE TABLE orders_log (LIKE orders INCLUDING ALL)`,
			`CREATE RULE orders_log_rule AS ON DELETE TO orders DO ALSO INSERT INTO orders_log SELECT OLD.*`,
			`UPDATE customer SET score = score + 1 WHERE id % 10 = 0`,
			`DELETE FROM customer WHERE id > 1990`,
			`INSERT INTO orders (customer_id, amount) VALUES (1, 5), (2, 6)`,
			// Upserts, MERGE, CTEs, RETURNING, window functions.
			`INSERT INTO customer (name, score) VALUES ('c1', 7) ON CONFLICT (name) DO UPDATE SET score = EXCLUDED.score RETURNING id, score`,
			`INSERT INTO customer (name) VALUES ('c2') ON CONFLICT DO NOTHING`,
			`MERGE INTO customer c USING (SELECT 'c' || g AS name, g AS s FROM generate_series(1980, 2010) g) src ON c.name = src.name
			 WHEN MATCHED AND src.s % 2 = 0 THEN UPDATE SET score = src.s
			 WHEN MATCHED THEN DELETE
			 WHEN NOT MATCHED THEN INSERT (name, score) VALUES (src.name, src.s)`,
			`WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 500) SELECT sum(n) FROM t`,
			`WITH moved AS (DELETE FROM audit WHERE op = 'batch' RETURNING *) INSERT INTO audit SELECT * FROM moved`,
			`SELECT customer_id, amount, rank() OVER w, sum(amount) OVER (w ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), lag(amount) OVER w
			 FROM orders WINDOW w AS (PARTITION BY customer_id ORDER BY amount) LIMIT 100`,
			`SELECT c.name, count(o.*), grouping(c.m) FROM customer c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY ROLLUP (c.m, c.name) ORDER BY 2 DESC LIMIT 5`,
			`SELECT * FROM customer c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.amount > 990) AND c.id NOT IN (SELECT customer_id FROM orders_log WHERE customer_id IS NOT NULL)`,
			`SELECT * FROM customer TABLESAMPLE BERNOULLI (10) REPEATABLE (1)`,
			`SELECT * FROM orders TABLESAMPLE SYSTEM (5)`,
			// Views, updatable views, materialized views.
			`CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 500 WITH CHECK OPTION`,
			`UPDATE big_orders SET amount = amount + 1 WHERE id < 100`,
			`CREATE RECURSIVE VIEW nums (n) AS SELECT 1 UNION ALL SELECT n + 1 FROM nums WHERE n < 10`,
			`CREATE MATERIALIZED VIEW order_totals AS SELECT customer_id, sum(amount) AS total FROM orders GROUP BY customer_id`,
			`CREATE UNIQUE INDEX ON order_totals (customer_id)`,
			`REFRESH MATERIALIZED VIEW order_totals`,
			`INSERT INTO orders (customer_id, amount) SELECT 1 + g % 50, 1 FROM generate_series(1, 200) g`,
			`REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals`,
			// Partitioning: range, list, hash, default, sub-partitions, attach/detach.
			`CREATE TABLE events (id bigint, at date NOT NULL, kind text, payload jsonb) PARTITION BY RANGE (at)`,
			`CREATE TABLE events_2023 PARTITION OF events FOR VALUES FROM ('2023-01-01') TO ('2024-01-01') PARTITION BY LIST (kind)`,
			`CREATE TABLE events_2023_a PARTITION OF events_2023 FOR VALUES IN ('a')`,
			`CREATE TABLE events_2023_rest PARTITION OF events_2023 DEFAULT`,
			`CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') PARTITION BY HASH (id)`,
			`CREATE TABLE events_2024_h0 PARTITION OF events_2024 FOR VALUES WITH (MODULUS 2, REMAINDER 0)`,
			`CREATE TABLE events_2024_h1 PARTITION OF events_2024 FOR VALUES WITH (MODULUS 2, REMAINDER 1)`,
			`CREATE INDEX ON events (at, kind)`,
			`INSERT INTO events SELECT g, date '2023-01-01' + g % 700, CASE WHEN g % 3 = 0 THEN 'a' ELSE 'b' END, jsonb_build_object('g', g) FROM generate_series(1, 5000) g`,
			`UPDATE events SET at = at + 200 WHERE id % 50 = 0 AND at < '2024-06-01'`,
			`CREATE TABLE events_2025 (LIKE events INCLUDING ALL)`,
			`INSERT INTO events_2025 VALUES (1, '2025-06-01', 'a', '{}')`,
			`ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')`,
			`ALTER TABLE events DETACH PARTITION events_2025 CONCURRENTLY`,
			`SELECT kind, count(*) FROM events WHERE at BETWEEN '2023-03-01' AND '2024-03-01' GROUP BY kind`,
			// Inheritance, typed tables, ALTER TABLE rewrites and checks.
			`CREATE TABLE parent_t (a int, b text)`,
			`CREATE TABLE child_t (c int) INHERITS (parent_t)`,
			`INSERT INTO child_t SELECT g, 'x', g FROM generate_series(1, 1000) g`,
			`SELECT count(*) FROM parent_t`,
			`CREATE TABLE typed_t OF pair`,
			`ALTER TABLE orders ADD COLUMN extra int DEFAULT 42`,
			`ALTER TABLE audit ALTER COLUMN op TYPE varchar(20)`,
			`ALTER TABLE customer ALTER COLUMN score TYPE bigint`,
			`ALTER TABLE orders ADD COLUMN volatile_default timestamptz DEFAULT clock_timestamp()`,
			`ALTER TABLE orders DROP COLUMN extra`,
			`ALTER TABLE customer ADD CONSTRAINT score_small CHECK (score < 100000) NOT VALID`,
			`ALTER TABLE customer VALIDATE CONSTRAINT score_small`,
			`ALTER TABLE audit SET UNLOGGED`,
			`ALTER TABLE audit SET LOGGED`,
			`ALTER TABLE orders SET (autovacuum_vacuum_scale_factor = 0.01, toast.autovacuum_enabled = off)`,
			`ALTER TABLE orders REPLICA IDENTITY FULL`,
			`ALTER TABLE parent_t RENAME COLUMN b TO bb`,
			// TOAST: pglz and lz4, external and compressed values.
			`CREATE TABLE docs (id int, body text, raw bytea)`,
			`ALTER TABLE docs ALTER COLUMN raw SET STORAGE EXTERNAL`,
			`SET default_toast_compression = 'pglz'`,
			`INSERT INTO docs SELECT g, repeat(md5(g::text), 2000), decode(repeat(md5(g::text), 500), 'hex') FROM generate_series(1, 50) g`,
			`SET default_toast_compression = 'lz4'`,
			`INSERT INTO docs SELECT g, repeat(md5(g::text), 2000), NULL FROM generate_series(51, 100) g`,
			`ALTER TABLE docs ALTER COLUMN body SET COMPRESSION pglz`,
			`UPDATE docs SET body = body || 'x' WHERE id % 10 = 0`,
			`SELECT sum(length(body)), sum(length(raw)), count(DISTINCT pg_column_compression(body)) FROM docs`,
			`RESET default_toast_compression`,
			// Row-level security, privileges, ownership.
			`ALTER TABLE customer ENABLE ROW LEVEL SECURITY`,
			`CREATE POLICY low_ids ON customer USING (id < 100)`,
			`GRANT USAGE ON SCHEMA `+quoteIdent(r.schemaName())+` TO `+roleUser,
			`GRANT SELECT ON customer TO `+roleUser,
			`GRANT SELECT (id, amount) ON orders TO `+roleUser,
			`SET ROLE `+roleUser,
			`SELECT count(*) FROM customer`,
			`SELECT id, amount FROM orders LIMIT 1`,
			`RESET ROLE`,
			`SET SESSION AUTHORIZATION `+roleUser,
			`SELECT current_user, session_user`,
			`RESET SESSION AUTHORIZATION`,
			`REVOKE ALL ON customer FROM `+roleUser,
			`ALTER TABLE typed_t OWNER TO `+roleOwner,
			`REASSIGN OWNED BY `+roleOwner+` TO CURRENT_USER`,
			`ALTER DEFAULT PRIVILEGES IN SCHEMA `+quoteIdent(r.schemaName())+` GRANT SELECT ON TABLES TO `+roleUser,
			`ALTER DEFAULT PRIVILEGES IN SCHEMA `+quoteIdent(r.schemaName())+` REVOKE SELECT ON TABLES FROM `+roleUser,
			// Statistics, comments, casts, operators, aggregates.
			`CREATE STATISTICS orders_stats (dependencies, ndistinct, mcv) ON customer_id, amount FROM orders`,
			`ANALYZE orders`,
			`COMMENT ON TABLE orders IS 'orders'`,
			`CREATE FUNCTION pair_sum(pair) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT $1.a + length($1.b)'`,
			`CREATE OPERATOR ### (LEFTARG = int, RIGHTARG = int, FUNCTION = int4pl, COMMUTATOR = ###)`,
			`SELECT 1 ### 2`,
			`CREATE AGGREGATE my_sum (int) (SFUNC = int4pl, STYPE = int, INITCOND = '0', PARALLEL = SAFE)`,
			`SELECT my_sum(id) FROM customer`,
			`CREATE CAST (pair AS int) WITH FUNCTION pair_sum(pair)`,
			`SELECT (p)::int FROM customer WHERE p IS NOT NULL LIMIT 3`,
			// Cursors, prepared statements, explicit locks.
			`BEGIN`,
			`DECLARE c SCROLL CURSOR WITH HOLD FOR SELECT * FROM orders ORDER BY id`,
			`FETCH 10 FROM c`,
			`COMMIT`,
			`FETCH ABSOLUTE 5000 FROM c`,
			`MOVE BACKWARD 100 IN c`,
			`CLOSE c`,
			`PREPARE q(int) AS SELECT * FROM orders WHERE customer_id = $1`,
			`EXECUTE q(5)`,
			`DEALLOCATE q`,
			`BEGIN`,
			`LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE`,
			// Without NOWAIT: autovacuum may be analyzing the fresh table
			// (it yields to a waiting lock, after deadlock_timeout).
			`LOCK TABLE customer IN ACCESS EXCLUSIVE MODE`,
			`SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()`,
			`COMMIT`,
			`DISCARD ALL`,
			// Renames and drops of every kind.
			`SET search_path = `+quoteIdent(r.schemaName()),
			`ALTER TABLE orders_log RENAME TO orders_archive`,
			`ALTER SCHEMA `+quoteIdent(r.schemaName())+` RENAME TO `+quoteIdent(r.schemaName()+"_renamed"),
			`ALTER SCHEMA `+quoteIdent(r.schemaName()+"_renamed")+` RENAME TO `+quoteIdent(r.schemaName()),
			`DROP VIEW big_orders`,
			`DROP TABLE typed_t, child_t`,
			`DROP CAST (pair AS int)`,
			`TRUNCATE audit`,
			`BEGIN`,
			`CREATE TABLE swap_me (a int)`,
			`INSERT INTO swap_me SELECT generate_series(1, 1000)`,
			`TRUNCATE swap_me`,
			`COMMIT`,
			`DROP TABLE swap_me`,
		)
	})
}

// typesStep: the data types whose functions call into libraries or read
// files: json, xml (libxml2), regular expressions, full text search,
// random numbers and hashing.
func typesStep() Step {
	return step("types-json-xml-regex", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		if err := s.exec(ctx,
			// json, jsonb, jsonpath.
			`CREATE TABLE j (id int, doc jsonb, raw json)`,
			`INSERT INTO j SELECT g, jsonb_build_object('id', g, 'tags', jsonb_build_array('a', g % 7), 'nested', jsonb_build_object('x', g * 1.5)),
			        json_build_object('g', g) FROM generate_series(1, 3000) g`,
			`CREATE INDEX ON j USING gin (doc jsonb_path_ops)`,
			`SELECT count(*) FROM j WHERE doc @> '{"tags": ["a"]}'`,
			`SELECT jsonb_path_query_array(doc, '$.tags[*] ? (@ > 3)'), doc #> '{nested,x}', doc - 'id' FROM j LIMIT 10`,
			`SELECT jsonb_pretty(jsonb_agg(doc)), json_agg(raw)::text FROM j WHERE id < 50`,
			`SELECT * FROM jsonb_to_recordset('[{"a":1,"b":"x"},{"a":2,"b":"y"}]') AS t(a int, b text)`,
			`SELECT jsonb_set(doc, '{nested,y}', '"new"'), jsonb_strip_nulls(doc), doc['tags'][0] FROM j LIMIT 5`,
			`SELECT '{"a": [1, 2, 3]}'::json -> 'a' ->> 1, json_typeof('1'), to_json(now()), row_to_json(j) FROM j LIMIT 3`,
			`SELECT jsonb_path_match('{"a": 2}', 'exists($.a ? (@ > 1))'), jsonb_path_query('{"t": "2023-01-01"}', '$.t.datetime()')`,
			// Ranges and multiranges, arrays, geometric and network types.
			`SELECT int4range(1, 10) * int4range(5, 20), tstzrange(now(), now() + interval '1 day') @> now(), int4multirange(int4range(1,3), int4range(7,9)) + '{[20,30)}'`,
			`SELECT array_agg(g ORDER BY g DESC), array_positions(ARRAY[1,2,1], 1), unnest(ARRAY[[1,2],[3,4]]) FROM generate_series(1, 10) g GROUP BY g % 2`,
			`SELECT '10.1.0.0/16'::cidr >> '10.1.2.3'::inet, '08:00:2b:01:02:03'::macaddr, point(1,2) <-> point(4,6), circle '((0,0),1)' @> point(0.5,0.5), box '(0,0,1,1)' && box '(0.5,0.5,2,2)'`,
			`SELECT to_char(1234567.891, 'FM9G999G999D00'), to_char(now(), 'YYYY-MM-DD HH24:MI:SS.US TZ Day Month'), to_number('12,454.8-', '99G999D9S'), to_date('05 Dec 2000', 'DD Mon YYYY'), to_timestamp('2011-12-18 11:38 PM', 'YYYY-MM-DD HH12:MI PM')`,
			`SELECT 2::numeric ^ 1000, factorial(200), sqrt(2::numeric), exp(1::numeric), ln(10::numeric), 1e300::float8 * 10, width_bucket(5.35, 0.024, 10.06, 5), gcd(1071, 462)`,
			`SELECT md5('x'), sha224('x'), sha256('x'), sha384('x'), sha512('x'), encode(digest_input, 'base64'), crc FROM (SELECT 'abc'::bytea AS digest_input, hashtext('abc') AS crc) t`,
			`SELECT gen_random_uuid(), random(), setseed(0.5), random(), floor(random() * 100)`,
			`SELECT format('%s %I %L', 'a', 'b c', 'd''e'), quote_ident('x y'), string_agg(g::text, ',' ORDER BY g), overlay('abcdef' PLACING 'zz' FROM 2 FOR 3), translate('abc', 'ab', 'xy'), initcap('hello world'), lpad('x', 10, '-'), reverse('abc'), split_part('a,b,c', ',', 2) FROM generate_series(1, 100) g`,
			`SELECT normalize(U&'\0061\0301', NFC), U&'\0061\0301' IS NFD NORMALIZED, unistr('\u00e9'), upper('straße'), lower('ÀÉÎ'), 'é' ~* 'É'`,
			// Regular expressions (the regex engine and its caches).
			`SELECT regexp_replace(name, '(\d+)', '<\1>', 'g'), regexp_match(name, '^c(\d)(\d)?'), name ~ '^c[0-9]{2,3}$', name SIMILAR TO 'c%1', substring(name from 'c(.)') FROM (SELECT 'c' || g AS name FROM generate_series(1, 500) g) t`,
			`SELECT regexp_split_to_table('one, two;three', '[,;]\s*'), regexp_count('aaa', 'a'), regexp_instr('abcabc', 'c', 1, 2), regexp_like('Hello', 'h', 'i'), regexp_substr('x1y22z333', '\d+', 1, 3)`,
			`SELECT 'foo' ~ '(?=f)\w+\M', 'aaaa' ~ '^(a+)+$', 'x' ~ '[[:alpha:]]', 'ÿ' ~ '[[:upper:]]', 'ab' ~ '(?i)AB', 'abc' ~ '(?x) a b c  # comment'`,
			// XML (libxml2): parse, serialize, xpath, xmltable, tables to xml.
			`CREATE TABLE x (id int, doc xml)`,
			`INSERT INTO x SELECT g, xmlparse(document '<root><item id="' || g || '"><name>n' || g || '</name><v>' || g * 2 || '</v></item></root>') FROM generate_series(1, 200) g`,
			`SELECT xpath('/root/item/name/text()', doc), xpath_exists('//v', doc), xmlserialize(document doc AS text) FROM x LIMIT 5`,
			`SELECT t.* FROM x, XMLTABLE('/root/item' PASSING doc COLUMNS id int PATH '@id', name text PATH 'name', v float PATH 'v') t LIMIT 10`,
			`SELECT xmlelement(name foo, xmlattributes('x' AS bar), xmlforest(1 AS a, 'b' AS b)), xmlagg(xmlelement(name i, id)), xmlconcat('<a/>', '<b/>'), xmlcomment('c'), xmlpi(name php, 'echo')  FROM x`,
			`SELECT query_to_xml('SELECT id FROM x LIMIT 3', true, false, ''), table_to_xmlschema('x', true, false, ''), xml_is_well_formed('<a>'), '<a>&amp;</a>'::xml IS DOCUMENT`,
			`SELECT xmlparse(content '<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>')`,
			`SET xmloption = document`,
			`SELECT xmlparse(document '<?xml version="1.0" encoding="UTF-8"?><a xmlns:n="urn:n"><n:b>1</n:b></a>')`,
			`RESET xmloption`,
			// Full text search with the built-in configurations (snowball
			// stemmers are a loadable module; stop words are files).
			`SELECT to_tsvector('english', 'The quick brown foxes jumped over the lazy dogs'), to_tsvector('german', 'Die Häuser'), to_tsvector('russian', 'Мама мыла раму'), to_tsvector('simple', 'a b c')`,
			`SELECT plainto_tsquery('english', 'lazy dog'), websearch_to_tsquery('english', '"quick fox" -cat or dog'), phraseto_tsquery('french', 'les chats noirs'), ts_rank(to_tsvector('english', 'a fat cat'), to_tsquery('english', 'cat'))`,
			`SELECT ts_headline('english', 'The quick brown fox jumps over the lazy dog', to_tsquery('english', 'fox & dog')), ts_debug('english', 'Paris is a city')`,
			`SELECT cfgname, count(*) FROM pg_ts_config c, LATERAL ts_debug(c.oid, 'Running runners ran quickly 1.5 http://x.org') GROUP BY cfgname`,
			`CREATE TABLE fts (id int, body text, tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED)`,
			`INSERT INTO fts (id, body) SELECT g, 'document number ' || g || ' about ' || (ARRAY['cats','dogs','birds','fish'])[1 + g % 4] FROM generate_series(1, 2000) g`,
			`CREATE INDEX ON fts USING gin (tsv)`,
			`CREATE INDEX fts_gist ON fts USING gist (tsv)`,
			`SELECT count(*) FROM fts WHERE tsv @@ to_tsquery('english', 'dog | bird')`,
			`SELECT ts_stat('SELECT tsv FROM fts')`,
		); err != nil {
			return err
		}
		return nil
	})
}

// textSearchStep: text search dictionaries read their files from
// share/tsearch_data when first used in a session.
func textSearchStep() Step {
	return step("text-search-dictionaries", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		return s.exec(ctx,
			`CREATE TEXT SEARCH DICTIONARY ispell_dict (TEMPLATE = ispell, DictFile = ispell_sample, AffFile = ispell_sample, StopWords = english)`,
			`CREATE TEXT SEARCH DICTIONARY hunspell_dict (TEMPLATE = ispell, DictFile = hunspell_sample_long, AffFile = hunspell_sample_long)`,
			`CREATE TEXT SEARCH DICTIONARY hunspell_num (TEMPLATE = ispell, DictFile = hunspell_sample_num, AffFile = hunspell_sample_num)`,
			`CREATE TEXT SEARCH DICTIONARY syn_dict (TEMPLATE = synonym, SYNONYMS = synonym_sample)`,
			`CREATE TEXT SEARCH DICTIONARY thes_dict (TEMPLATE = thesaurus, DictFile = thesaurus_sample, Dictionary = english_stem)`,
			`CREATE TEXT SEARCH DICTIONARY simple_stop (TEMPLATE = simple, StopWords = french, Accept = false)`,
			`CREATE TEXT SEARCH DICTIONARY snow_nl (TEMPLATE = snowball, Language = dutch, StopWords = dutch)`,
			`SELECT ts_lexize('ispell_dict', 'skies'), ts_lexize('ispell_dict', 'bookings'), ts_lexize('hunspell_dict', 'footballs'), ts_lexize('hunspell_num', 'booking')`,
			`SELECT ts_lexize('syn_dict', 'postgres'), ts_lexize('thes_dict', 'booking'), ts_lexize('simple_stop', 'le'), ts_lexize('snow_nl', 'fietsen')`,
			`CREATE TEXT SEARCH CONFIGURATION my_cfg (COPY = english)`,
			`ALTER TEXT SEARCH CONFIGURATION my_cfg ALTER MAPPING FOR asciiword, word WITH thes_dict, syn_dict, ispell_dict, english_stem`,
			`SELECT to_tsvector('my_cfg', 'one two three postgres skies booking tickets supernovae'), to_tsquery('my_cfg', 'supernovae & stars')`,
			`SET default_text_search_config = 'my_cfg'`,
			`SELECT to_tsvector('the booking of the skies'), ts_headline('the booking of the skies', 'sky')`,
			`RESET default_text_search_config`,
			`ALTER TEXT SEARCH DICTIONARY syn_dict (CaseSensitive = true)`,
			`SELECT ts_lexize('syn_dict', 'Postgres')`,
			`DROP TEXT SEARCH CONFIGURATION my_cfg`,
		)
	})
}

// localeStep: collations (ICU and libc), locale-dependent formatting,
// time zones and encodings load data files and conversion modules.
func localeStep() Step {
	return step("collations-timezones-encodings", false, func(ctx context.Context, r *runner) error {
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		if err := s.exec(ctx,
			`CREATE TABLE words (w text)`,
			`INSERT INTO words VALUES ('apple'), ('Äpfel'), ('zebra'), ('Zürich'), ('éclair'), ('eclair'), ('ångström'), ('10'), ('9'), ('straße'), ('STRASSE')`,
			// ICU collations, predefined and created, deterministic or not.
			`SELECT w FROM words ORDER BY w COLLATE "und-x-icu"`,
			`SELECT w FROM words ORDER BY w COLLATE "de-x-icu" DESC`,
			`CREATE COLLATION icu_num (provider = icu, locale = 'en-u-kn-true')`,
			`CREATE COLLATION icu_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`,
			`CREATE COLLATION icu_phonebook (provider = icu, locale = 'de-u-co-phonebk')`,
			`SELECT w FROM words ORDER BY w COLLATE icu_num`,
			`SELECT count(DISTINCT w COLLATE icu_ci), 'straße' = 'STRASSE' COLLATE icu_ci, upper('ı' COLLATE "tr-x-icu"), lower('I' COLLATE "tr-x-icu") FROM words`,
			`SELECT w FROM words WHERE w LIKE 'z%' COLLATE "C" ORDER BY w COLLATE icu_phonebook`,
			`CREATE INDEX ON words (w COLLATE icu_num)`,
			`SELECT pg_collation_actual_version(oid) FROM pg_collation WHERE collname IN ('und-x-icu', 'C.utf8', 'icu_num')`,
			`ALTER COLLATION icu_num REFRESH VERSION`,
			// libc collations and locale-dependent formatting.
			`SELECT w FROM words ORDER BY w COLLATE "C.utf8"`,
			`SELECT w FROM words ORDER BY w COLLATE "POSIX"`,
			`SET lc_monetary = 'C.utf8'`,
			`SET lc_numeric = 'C.utf8'`,
			`SET lc_time = 'C.utf8'`,
			`SELECT to_char(now(), 'TMDay TMMonth'), to_char(12345.6, 'L99G999D99'), 12.34::money, to_char(-1234.5, 'FM9G999D9PR')`,
			`RESET lc_monetary`,
			`RESET lc_numeric`,
			`RESET lc_time`,
			`SELECT upper(w), lower(w), initcap(w), w ILIKE 'ä%' FROM words`,
			`ALTER DATABASE `+workDB+` REFRESH COLLATION VERSION`,
			// Time zones: each is a file in the tz database; names and
			// abbreviations are listed from it.
			`SET timezone = 'America/New_York'`,
			`SELECT now(), '2023-03-12 02:30'::timestamptz, '2023-11-05 01:30'::timestamptz`,
			`SET timezone = 'Asia/Kolkata'`,
			`SELECT now()::text, timezone('Europe/Berlin', now()), now() AT TIME ZONE 'Australia/Lord_Howe', now() AT TIME ZONE 'UTC+3'`,
			`SET timezone = 'Pacific/Chatham'`,
			`SELECT extract(timezone FROM now()), to_char(now(), 'TZ OF TZH:TZM')`,
			`SET timezone = 'EST5EDT'`,
			`SET timezone = '-07:30'`,
			`SET timezone = 'posixrules'`,
			`RESET timezone`,
			`SELECT count(*) FROM pg_timezone_names`,
			`SELECT count(*) FROM pg_timezone_abbrevs`,
			`SET timezone_abbreviations = 'Australia'`,
			`SELECT '2023-01-01 12:00 ACST'::timestamptz`,
			`SET timezone_abbreviations = 'India'`,
			`RESET timezone_abbreviations`,
			// Encodings: conversions between server and client encodings are
			// loadable modules.
			`SELECT convert_to('héllo wörld', 'LATIN1'), convert_from(convert_to('日本語テキスト', 'SJIS'), 'SJIS'), convert_to('中文', 'GBK'), convert_to('한국어', 'UHC'), convert_to('привет', 'KOI8R'), convert_to('привет', 'WIN1251'), convert_to('日本', 'EUC_JP'), convert_to('中文', 'BIG5'), convert_to('中文', 'GB18030'), convert_to('ħ', 'LATIN3'), convert_to('€', 'WIN1252'), convert_to('日本', 'EUC_JIS_2004'), convert_to('日本', 'SHIFT_JIS_2004'), convert_to('中', 'EUC_TW'), convert_to('한', 'EUC_KR'), convert_to('한', 'JOHAB'), convert_to('中', 'EUC_CN'), convert_to('ё', 'ISO_8859_5'), convert_to('ő', 'LATIN2')`,
			`SELECT convert('abc'::bytea, 'LATIN1', 'UTF8'), convert('\x8140'::bytea, 'SJIS', 'EUC_JP'), convert('\xa4a2'::bytea, 'EUC_JP', 'SJIS'), convert('\xe9'::bytea, 'WIN1250', 'LATIN2'), convert('\xc1'::bytea, 'KOI8R', 'WIN1251')`,
		); err != nil {
			return err
		}
		// MULE_INTERNAL is gone in 19.
		major, err := cluster.ConnMajor(ctx, s.conn)
		if err != nil {
			return err
		}
		if major < 19 {
			if err := s.exec(ctx, `SELECT convert('\xb1a1'::bytea, 'EUC_CN', 'MULE_INTERNAL')`); err != nil {
				return err
			}
		}
		// Client encodings: the backend converts every message.
		for _, enc := range []string{"LATIN1", "SJIS", "BIG5", "GBK", "WIN1252", "EUC_JP", "KOI8U", "LATIN9", "SQL_ASCII", "UTF8"} {
			if err := s.exec(ctx,
				"SET client_encoding = "+quoteLiteral(enc),
				`SELECT 'abc', count(*) FROM words`,
			); err != nil {
				return err
			}
		}
		// A database in another encoding, a database with ICU as its default
		// collation provider.
		for _, q := range []string{
			fmt.Sprintf("CREATE DATABASE %slatin1 TEMPLATE template0 ENCODING 'LATIN1' LOCALE 'C'", prefix),
			fmt.Sprintf("CREATE DATABASE %sicu TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'de-DE' LOCALE 'C.utf8'", prefix),
		} {
			if err := s.exec(ctx, q); err != nil {
				return err
			}
		}
		for _, db := range []string{prefix + "latin1", prefix + "icu"} {
			d, err := r.connect(ctx, db, "client_encoding=UTF8")
			if err != nil {
				return err
			}
			if err := d.exec(ctx,
				`CREATE TABLE t (w text)`,
				`INSERT INTO t VALUES ('ä'), ('z'), ('a'), ('é')`,
				`SELECT w FROM t ORDER BY w`,
				`SELECT upper(w), w ~* 'Ä' FROM t`,
			); err != nil {
				return err
			}
			r.release(d)
			if err := s.exec(ctx, "DROP DATABASE "+quoteIdent(db)); err != nil {
				return err
			}
		}
		return nil
	})
}
