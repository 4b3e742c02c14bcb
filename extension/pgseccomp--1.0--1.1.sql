/* pgseccomp--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pgseccomp UPDATE TO '1.1'" to load this file. \quit

-- The session plan in force (new sessions get it) and since when, and the
-- last reload pgseccomp rejected, if the plan is older than the
-- configuration: rejected_at, rejected_setting and rejected_detail are NULL
-- when the last reload was applied.
CREATE FUNCTION seccomp_reload_status(
    OUT plan_generation int8,
    OUT plan_since timestamptz,
    OUT rejected_at timestamptz,
    OUT rejected_setting text,
    OUT rejected_detail text)
RETURNS record
AS 'MODULE_PATHNAME', 'seccomp_reload_status'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

REVOKE ALL ON FUNCTION seccomp_reload_status() FROM PUBLIC;
