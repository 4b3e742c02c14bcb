/* pgseccomp--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pgseccomp" to load this file. \quit

-- What this process has loaded into the kernel.  VOLATILE: it describes
-- process state, which set_client_filter() changes.  PARALLEL RESTRICTED:
-- it describes the leader's filters.
CREATE FUNCTION seccomp_filter(
    OUT syscall text,
    OUT syscallnum int4,
    OUT filter_action text,
    OUT context text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'seccomp_filter'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

REVOKE ALL ON FUNCTION seccomp_filter() FROM PUBLIC;

-- Load one more filter into this session.  VOLATILE and PARALLEL UNSAFE:
-- planning or EXPLAIN must never load a filter, and only the leader may.
-- Not STRICT: NULL arguments mean "this session's value".
CREATE FUNCTION set_client_filter(
    default_action text,
    allow_list text,
    log_list text,
    error_list text,
    kill_list text)
RETURNS text
AS 'MODULE_PATHNAME', 'set_client_filter'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;

REVOKE ALL ON FUNCTION set_client_filter(text, text, text, text, text) FROM PUBLIC;
