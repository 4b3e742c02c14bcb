/*-------------------------------------------------------------------------
 *
 * settings.c
 *		The settings: their names, parsing their values, the check hooks,
 *		and reading the per-role settings.
 *
 * Nothing here raises an error or loads a filter, so that the same code
 * serves GUC check hooks, the postmaster's reload (where an ERROR would be
 * fatal) and set_client_filter().  Problems are described in the caller's
 * buffer.
 *
 *-------------------------------------------------------------------------
 */
#include "pgseccomp.h"

#include <ctype.h>
#include <seccomp.h>

#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/varlena.h"

const char *const seccomp_action_names[NUM_SECCOMP_ACTIONS] = {
	"allow", "log", "error", "kill"
};

const char *const filter_origin_names[NUM_FILTER_ORIGINS] = {
	"global", "session", "client"
};

/* Longer than any syscall name libseccomp knows. */
#define MAX_SYSCALL_NAME 64

/* qsort comparator for ints */
int
compare_ints(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	return (x > y) - (x < y);
}

static bool
is_blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char) *s))
			return false;
	return true;
}

/*
 * Parse a comma-separated list of syscall names.  Whitespace around names is
 * ignored and an empty (or blank) string is an empty list.  With
 * allow_inherit, the whole list may be '*'.
 *
 * Returns a malloc'd list, or NULL with a description of the first problem
 * (naming the offending word) in errbuf.
 */
SyscallList *
parse_syscall_list(const char *value, bool allow_inherit,
				   char *errbuf, size_t errbuf_size)
{
	SyscallList *list;
	int			maxcount = 1;
	const char *p;

	for (p = value; *p; p++)
		if (*p == ',')
			maxcount++;

	list = malloc(offsetof(SyscallList, syscalls) + maxcount * sizeof(int));
	if (list == NULL)
	{
		snprintf(errbuf, errbuf_size, "out of memory");
		return NULL;
	}
	list->inherit = false;
	list->count = 0;

	if (is_blank(value))
		return list;

	p = value;
	for (;;)
	{
		const char *start;
		const char *end;
		const char *next;
		char		name[MAX_SYSCALL_NAME + 1];
		size_t		len;
		int			syscall;

		next = strchr(p, ',');
		end = next ? next : p + strlen(p);
		start = p;
		while (start < end && isspace((unsigned char) *start))
			start++;
		while (end > start && isspace((unsigned char) end[-1]))
			end--;
		len = end - start;

		if (len == 0)
		{
			snprintf(errbuf, errbuf_size,
					 "The list has an empty entry: a comma at its start or end, or two commas in a row.");
			goto fail;
		}
		if (len == 1 && *start == '*')
		{
			if (!allow_inherit)
				snprintf(errbuf, errbuf_size,
						 "\"*\" (use the global list) is valid only in session lists.");
			else if (maxcount > 1)
				snprintf(errbuf, errbuf_size,
						 "\"*\" must be the whole list, not one of its entries.");
			else
			{
				list->inherit = true;
				return list;
			}
			goto fail;
		}
		if (len > MAX_SYSCALL_NAME)
		{
			snprintf(errbuf, errbuf_size, "Unknown syscall \"%.*s...\".",
					 MAX_SYSCALL_NAME, start);
			goto fail;
		}
		memcpy(name, start, len);
		name[len] = '\0';

		syscall = seccomp_syscall_resolve_name(name);
		if (syscall == __NR_SCMP_ERROR)
		{
			snprintf(errbuf, errbuf_size,
					 strpbrk(name, " \t\n") ?
					 "Unknown syscall \"%s\": separate syscall names with commas." :
					 "Unknown syscall \"%s\".", name);
			goto fail;
		}
		if (syscall < 0)
		{
			/* libseccomp knows it, but only on other architectures */
			snprintf(errbuf, errbuf_size,
					 "Syscall \"%s\" does not exist on this architecture.", name);
			goto fail;
		}
		list->syscalls[list->count++] = syscall;

		if (next == NULL)
			break;
		p = next + 1;
	}

	/* Sort and drop duplicates: naming a syscall twice in one list is harmless. */
	qsort(list->syscalls, list->count, sizeof(int), compare_ints);
	if (list->count > 1)
	{
		int			kept = 1;

		for (int i = 1; i < list->count; i++)
			if (list->syscalls[i] != list->syscalls[kept - 1])
				list->syscalls[kept++] = list->syscalls[i];
		list->count = kept;
	}
	return list;

fail:
	free(list);
	return NULL;
}

/* Parse an action name, case-insensitively like PostgreSQL's enum GUCs. */
bool
parse_action(const char *value, SeccompAction *action)
{
	char		trimmed[16];
	size_t		len;

	while (isspace((unsigned char) *value))
		value++;
	len = strlen(value);
	while (len > 0 && isspace((unsigned char) value[len - 1]))
		len--;
	if (len >= sizeof(trimmed))
		return false;
	memcpy(trimmed, value, len);
	trimmed[len] = '\0';

	for (int i = 0; i < NUM_SECCOMP_ACTIONS; i++)
	{
		if (pg_strcasecmp(trimmed, seccomp_action_names[i]) == 0)
		{
			*action = (SeccompAction) i;
			return true;
		}
	}
	return false;
}

const char *const global_list_names[NUM_SECCOMP_ACTIONS] = {
	"pgseccomp.global_syscall_allow",
	"pgseccomp.global_syscall_log",
	"pgseccomp.global_syscall_error",
	"pgseccomp.global_syscall_kill"
};

const char *const session_list_names[NUM_SECCOMP_ACTIONS] = {
	"pgseccomp.session_syscall_allow",
	"pgseccomp.session_syscall_log",
	"pgseccomp.session_syscall_error",
	"pgseccomp.session_syscall_kill"
};


/*
 * Per-role settings are named <prefix>.<role>, exactly as in the talk.  They
 * are not defined variables (their names depend on the roles), so PostgreSQL
 * keeps them as placeholders; only the postmaster reads them, from the
 * configuration file, so no session can change what they say.
 */
const char *const role_setting_prefixes[NUM_SECCOMP_ACTIONS + 1] = {
	"session_syscall_allow",
	"session_syscall_log",
	"session_syscall_error",
	"session_syscall_kill",
	"session_syscall_default"
};


/*
 * Per-role settings are named session_syscall_<action>.<role>, and
 * PostgreSQL accepts such a custom name only when its parts are simple
 * identifiers; a role with any other name cannot have per-role settings.
 */
bool
valid_role_setting_name(const char *rolename)
{
	const char *p = rolename;

	if (*p == '\0')
		return false;
	for (; *p; p++)
	{
		unsigned char c = (unsigned char) *p;

		if (isalpha(c) || c == '_' || IS_HIGHBIT_SET(c))
			continue;
		if (p > rolename && (isdigit(c) || c == '$'))
			continue;
		return false;
	}
	return true;
}

/* ---- check hooks: reject a bad value, naming the offending word ---- */

static bool
check_list(char **newval, bool allow_inherit)
{
	char		errbuf[ERRBUF_SIZE];
	SyscallList *list = parse_syscall_list(*newval, allow_inherit,
										   errbuf, sizeof(errbuf));

	if (list == NULL)
	{
		GUC_check_errdetail("%s", errbuf);
		return false;
	}
	free(list);
	return true;
}

bool
check_global_list(char **newval, void **extra, GucSource source)
{
	return check_list(newval, false);
}

bool
check_session_list(char **newval, void **extra, GucSource source)
{
	return check_list(newval, true);
}

/*
 * Split session_roles into role names, as PostgreSQL splits identifier
 * lists (unquoted names are folded to lower case).  Returns NIL with a
 * message in errbuf when the list is invalid; the names point into a
 * palloc'd copy of the value.
 */
bool
split_session_roles(const char *value, List **roles,
					char *errbuf, size_t errbuf_size)
{
	char	   *copy = pstrdup(value);
	ListCell   *lc;

	if (!SplitIdentifierString(copy, ',', roles))
	{
		snprintf(errbuf, errbuf_size,
				 "The list of roles is malformed: separate role names with commas, and double-quote names that need it.");
		return false;
	}
	foreach(lc, *roles)
	{
		const char *role = lfirst(lc);

		if (!valid_role_setting_name(role))
		{
			snprintf(errbuf, errbuf_size,
					 "Role \"%s\" cannot have per-role settings: their names (%s%s.%s) allow only letters, digits, \"_\" and \"$\".",
					 role, ROLE_SETTING_PREFIX, "allow", role);
			return false;
		}
	}
	return true;
}

bool
check_session_roles(char **newval, void **extra, GucSource source)
{
	char		errbuf[ERRBUF_SIZE];
	List	   *roles = NIL;

	if (!split_session_roles(*newval, &roles, errbuf, sizeof(errbuf)))
	{
		GUC_check_errdetail("%s", errbuf);
		return false;
	}
	list_free(roles);
	return true;
}


/*
 * The value of a per-role setting, or NULL when the configuration does not
 * set it.  (A line removed from the file leaves its placeholder behind, with
 * its source reset to the default.)
 */
const char *
role_setting_value(int index, const char *rolename)
{
	struct config_generic **vars = get_guc_variables();
	int			nvars = GetNumConfigOptions();
	char	   *name = psprintf("%s.%s", role_setting_prefixes[index], rolename);
	const char *value = NULL;

	for (int i = 0; i < nvars; i++)
	{
		struct config_generic *gen = vars[i];

		if (pg_strcasecmp(gen->name, name) != 0)
			continue;
		if ((gen->flags & GUC_CUSTOM_PLACEHOLDER) &&
			gen->vartype == PGC_STRING &&
			gen->source != PGC_S_DEFAULT)
			value = *((struct config_string *) gen)->variable;
		break;
	}
	pfree(name);
	return value;
}

/*
 * A per-role setting that nothing reads is a restriction the DBA believes
 * in but does not have: a misspelt action, or a role missing from
 * session_roles.  Refuse it.
 */
bool
check_stray_role_settings(List *roles, char *errbuf, size_t errbuf_size)
{
	struct config_generic **vars = get_guc_variables();
	int			nvars = GetNumConfigOptions();

	for (int i = 0; i < nvars; i++)
	{
		struct config_generic *gen = vars[i];
		const char *dot;
		bool		known_prefix = false;
		bool		listed_role = false;
		ListCell   *lc;

		if (!(gen->flags & GUC_CUSTOM_PLACEHOLDER) ||
			gen->source == PGC_S_DEFAULT ||
			pg_strncasecmp(gen->name, ROLE_SETTING_PREFIX,
						   strlen(ROLE_SETTING_PREFIX)) != 0 ||
			(dot = strchr(gen->name, '.')) == NULL)
			continue;

		for (int p = 0; p <= ROLE_DEFAULT_INDEX; p++)
			if (strlen(role_setting_prefixes[p]) == dot - gen->name &&
				pg_strncasecmp(gen->name, role_setting_prefixes[p],
							   dot - gen->name) == 0)
				known_prefix = true;
		if (!known_prefix)
		{
			snprintf(errbuf, errbuf_size,
					 "\"%s\" is not a per-role setting: per-role settings are session_syscall_allow, _log, _error, _kill or _default, followed by \".\" and the role name.",
					 gen->name);
			return false;
		}
		foreach(lc, roles)
			if (pg_strcasecmp(lfirst(lc), dot + 1) == 0)
				listed_role = true;
		if (!listed_role)
		{
			snprintf(errbuf, errbuf_size,
					 "\"%s\" is set, but role \"%s\" is not listed in %s, so it would have no effect.",
					 gen->name, dot + 1, SESSION_ROLES_NAME);
			return false;
		}
	}
	return true;
}
