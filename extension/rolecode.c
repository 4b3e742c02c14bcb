/*-------------------------------------------------------------------------
 *
 * rolecode.c
 *		A listed role's functions, run by a process that no session
 *		started: autovacuum's ANALYZE (expression indexes, extended
 *		statistics), a logical replication apply worker (triggers), other
 *		extensions' background workers.
 *
 * Such a process never authenticates, so it has only the global filter.
 * fmgr_info() consults needs_fmgr_hook for every function that is not
 * built in, before its first call: there, in an autovacuum or background
 * worker that has no session filter, a function owned by a role listed in
 * pgseccomp.session_roles (not a superuser), or called while the worker
 * acts as such a role (ANALYZE runs as the table's owner), makes the worker
 * load that role's session program (the one the postmaster compiled, as a
 * backend of that role would) before the function runs.  Filters only
 * stack: the worker keeps it, and every role's it loads, until it exits.
 * See README, Limits, for what this does not cover and what it costs.
 *
 * Go twin: none; internal/lint says where it cannot help.
 *
 *-------------------------------------------------------------------------
 */
#include "pgseccomp.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_proc.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#define BACKGROUND_ROLE_FILTERS_NAME "pgseccomp.background_role_filters"

/* The setting, owned by the configuration system: read, never written. */
static bool background_role_filters = true;

static needs_fmgr_hook_type prev_needs_fmgr_hook = NULL;

/* Roles whose program this process has loaded (or found unlisted). */
static List *seen_roles = NIL;

/* Load the program of a role, if it is listed and not loaded yet. */
static void
load_role_filter(Oid roleid, Oid fn_oid)
{
	const char *rolename;
	const struct sock_fprog *program;
	MemoryContext oldcontext;
	int			rc;

	if (list_member_oid(seen_roles, roleid))
		return;
	/*
	 * Not a superuser's: extensions' functions belong to one, autovacuum
	 * acts as one, and a superuser can change pgseccomp's settings anyway.
	 */
	rolename = superuser_arg(roleid) ? NULL : GetUserNameFromId(roleid, true);
	program = rolename ? planned_role_program(rolename) : NULL;
	if (program != NULL)
	{
		rc = install_program(program);
		if (rc < 0)
			ereport(ERROR,
					(errcode(ERRCODE_SYSTEM_ERROR),
					 errmsg("could not load the pgseccomp session filter of role \"%s\" before running function %u: %s",
							rolename, fn_oid, strerror(-rc))));
		ereport(DEBUG1,
				(errmsg_internal("pgseccomp: loaded the session filter of role \"%s\" into this %s before running function %u",
								 rolename, GetBackendTypeDesc(MyBackendType), fn_oid)));
	}
	oldcontext = MemoryContextSwitchTo(TopMemoryContext);
	seen_roles = lappend_oid(seen_roles, roleid);
	MemoryContextSwitchTo(oldcontext);
}

/*
 * Before a function runs: the filters of the role that wrote it (its
 * owner) and of the role it runs as (ANALYZE runs as the table's owner),
 * each if listed.
 */
static void
load_role_filters(Oid fn_oid)
{
	HeapTuple	tuple;
	Oid			owner;
	Oid			user;
	int			sec_context;

	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn_oid));
	if (!HeapTupleIsValid(tuple))
		return;					/* fmgr_info() reports it */
	owner = ((Form_pg_proc) GETSTRUCT(tuple))->proowner;
	ReleaseSysCache(tuple);
	load_role_filter(owner, fn_oid);
	/* no user yet in a worker that has not connected to a database */
	GetUserIdAndSecContext(&user, &sec_context);
	if (OidIsValid(user))
		load_role_filter(user, fn_oid);
}

static bool
pgseccomp_needs_fmgr_hook(Oid fn_oid)
{
	/* Sessions have theirs; catalog lookups need a transaction. */
	if (background_role_filters && session_layer == NULL &&
		(MyBackendType == B_AUTOVAC_WORKER || MyBackendType == B_BG_WORKER) &&
		IsTransactionState())
		load_role_filters(fn_oid);
	return prev_needs_fmgr_hook ? prev_needs_fmgr_hook(fn_oid) : false;
}

void
define_role_code_settings(void)
{
	DefineCustomBoolVariable(BACKGROUND_ROLE_FILTERS_NAME,
							 "Loads a listed role's session filter into an autovacuum or background worker before it runs a function that role owns.",
							 "The worker keeps the filter until it exits.",
							 &background_role_filters, true,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
}

void
install_role_code_hook(void)
{
	prev_needs_fmgr_hook = needs_fmgr_hook;
	needs_fmgr_hook = pgseccomp_needs_fmgr_hook;
}
