/*-------------------------------------------------------------------------
 *
 * compat.h
 *		The supported PostgreSQL majors, and small named shims where their
 *		internal APIs differ.  Nothing else in the extension tests
 *		PG_VERSION_NUM.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGSECCOMP_COMPAT_H
#define PGSECCOMP_COMPAT_H

#include "postgres.h"

#include "utils/guc.h"
#include "utils/guc_tables.h"

#if PG_VERSION_NUM < 150000 || PG_VERSION_NUM >= 200000
#error "pgseccomp supports PostgreSQL 15 to 19"
#endif

/*
 * Every GUC variable, placeholders included.  From 16 the array is
 * palloc'd; free it with free_guc_variables().
 */
static inline struct config_generic **
guc_variables(int *nvars)
{
#if PG_VERSION_NUM >= 160000
	return get_guc_variables(nvars);
#else
	*nvars = GetNumConfigOptions();
	return get_guc_variables();
#endif
}

static inline void
free_guc_variables(struct config_generic **vars)
{
#if PG_VERSION_NUM >= 160000
	pfree(vars);
#endif
}

/*
 * Not shimmed, because not used: struct config_string and its kin (in 19
 * the type-specific fields moved into a union inside config_generic), so
 * values are read with GetConfigOption(); and signal handlers, whose
 * signature changes in 19, since pgseccomp installs none.  Differences
 * met in one place only: 19's funcapi.h no longer includes tuplestore.h
 * (sqlfuncs.c includes it), and assert-enabled builds of 16+ require
 * GUC_NOT_IN_SAMPLE with GUC_NO_SHOW_ALL (the hidden setting of workers.c
 * has both).  The reload mechanism relies on ProcessConfigFile()'s memory
 * context, the same in 15 to 19; see reload.c.
 */

#endif							/* PGSECCOMP_COMPAT_H */
