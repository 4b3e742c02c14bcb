--
-- EXECUTE on both functions is revoked from PUBLIC.
--
SELECT p.proname, p.provolatile, p.proparallel, p.proisstrict,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
FROM pg_proc p
WHERE p.proname IN ('seccomp_filter', 'set_client_filter')
ORDER BY p.proname;

CREATE ROLE regress_pgseccomp_nobody;
SET ROLE regress_pgseccomp_nobody;
SELECT count(*) FROM seccomp_filter();
SELECT set_client_filter(NULL, NULL, NULL, NULL, NULL);
RESET ROLE;

-- a grant opens it
GRANT EXECUTE ON FUNCTION seccomp_filter() TO regress_pgseccomp_nobody;
SET ROLE regress_pgseccomp_nobody;
SELECT count(*) > 0 AS has_rows FROM seccomp_filter();
RESET ROLE;
REVOKE EXECUTE ON FUNCTION seccomp_filter() FROM regress_pgseccomp_nobody;
DROP ROLE regress_pgseccomp_nobody;
