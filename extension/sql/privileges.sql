--
-- EXECUTE on every function is revoked from PUBLIC.
--
SELECT p.proname, p.provolatile, p.proparallel, p.proisstrict,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
FROM pg_proc p
WHERE p.proname IN ('seccomp_filter', 'set_client_filter', 'seccomp_reload_status')
ORDER BY p.proname;

CREATE ROLE regress_pgseccomp_nobody;
SET ROLE regress_pgseccomp_nobody;
SELECT count(*) FROM seccomp_filter();
SELECT set_client_filter(NULL, NULL, NULL, NULL, NULL);
SELECT * FROM seccomp_reload_status();
RESET ROLE;

-- a grant opens it
GRANT EXECUTE ON FUNCTION seccomp_filter() TO regress_pgseccomp_nobody;
SET ROLE regress_pgseccomp_nobody;
SELECT count(*) > 0 AS has_rows FROM seccomp_filter();
RESET ROLE;
REVOKE EXECUTE ON FUNCTION seccomp_filter() FROM regress_pgseccomp_nobody;
DROP ROLE regress_pgseccomp_nobody;

-- the plan in force since start-up, no rejected reload
SELECT plan_generation >= 1 AS has_plan, plan_since <= now() AS since_past,
       rejected_at IS NULL AS not_rejected, rejected_setting, rejected_detail
FROM seccomp_reload_status();

-- 1.0 updates to 1.1
DROP EXTENSION pgseccomp;
CREATE EXTENSION pgseccomp VERSION '1.0';
SELECT count(*) FROM pg_proc WHERE proname = 'seccomp_reload_status';
ALTER EXTENSION pgseccomp UPDATE TO '1.1';
SELECT count(*) FROM pg_proc WHERE proname = 'seccomp_reload_status';
