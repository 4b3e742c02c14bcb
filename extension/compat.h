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
 * The current value of a string GUC.  From 19 the type-specific fields
 * live in a union inside struct config_generic.
 */
static inline const char *
guc_string_value(const struct config_generic *gen)
{
#if PG_VERSION_NUM >= 190000
	return *gen->_string.variable;
#else
	return *((const struct config_string *) gen)->variable;
#endif
}

#endif							/* PGSECCOMP_COMPAT_H */
