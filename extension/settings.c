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
 * Go twin: internal/policy/settings.go.
 *
 *-------------------------------------------------------------------------
 */
#include "pgseccomp.h"

#include <ctype.h>

#include "utils/guc.h"
#include "miscadmin.h"
#include "parser/scansup.h"
#include "utils/guc_tables.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

const char *const filter_origin_names[NUM_FILTER_ORIGINS] = {
	"global", "session", "client"
};

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

/* ---- where a value was set, for messages ---- */

/*
 * Write " in file \"F\" line N" into buf, for where the configuration sets
 * the setting name to value, or "" when that is not known.  The setting's
 * own record says it once the value is in force (always so for per-role
 * settings, which are placeholders); a value being checked is not in force
 * yet, so the configuration files are parsed again, as pg_file_settings
 * does, and the last line setting name is taken, as the server takes it.
 * That is done only in the postmaster, which logs these messages, and only
 * on failure.
 */
void
setting_location(const char *name, const char *value, char *buf, size_t size)
{
	int			nvars;
	struct config_generic **vars = guc_variables(&nvars);
	ConfigVariable *head = NULL;
	ConfigVariable *tail = NULL;
	ConfigVariable *last = NULL;
	bool		found = false;

	buf[0] = '\0';
	for (int i = 0; i < nvars; i++)
	{
		struct config_generic *gen = vars[i];
		const char *current;

		if (pg_strcasecmp(gen->name, name) != 0)
			continue;
		/* GetConfigOption, not config_string: 19 moved it into a union */
		current = GetConfigOption(gen->name, true, false);
		if (gen->sourcefile != NULL && current != NULL &&
			strcmp(current, value) == 0)
		{
			snprintf(buf, size, " in file \"%s\" line %d",
					 gen->sourcefile, gen->sourceline);
			found = true;
		}
		break;
	}
	free_guc_variables(vars);
	if (found)
		return;

	if (IsUnderPostmaster || ConfigFileName == NULL)
		return;
	ParseConfigFile(ConfigFileName, true, NULL, 0, 0, DEBUG3, &head, &tail);
	if (DataDir != NULL)
		ParseConfigFile(PG_AUTOCONF_FILENAME, false, NULL, 0, 0, DEBUG3,
						&head, &tail);
	for (ConfigVariable *item = head; item != NULL; item = item->next)
		if (item->name != NULL && pg_strcasecmp(item->name, name) == 0)
			last = item;
	if (last != NULL && last->value != NULL && strcmp(last->value, value) == 0)
		snprintf(buf, size, " in file \"%s\" line %d",
				 last->filename, last->sourceline);
	FreeConfigVariables(head);
}

/*
 * ---- check hooks: reject a bad value, naming the offending word ----
 *
 * Every hook also tells reload.c what it saw, so that a reload with any
 * rejected pgseccomp setting keeps the whole previous session plan.
 */

/*
 * PostgreSQL's own message would quote the whole value, which can be a
 * list of hundreds of names: name the setting, where it is set, and (in
 * the detail) the word, its position and the closest syscall name instead.
 */
static bool
check_list(char **newval, GucSource source, const char *name,
		   bool allow_inherit)
{
	char		errbuf[ERRBUF_SIZE];
	char		where[ERRBUF_SIZE];
	SyscallList *list = parse_syscall_list(*newval, allow_inherit,
										   errbuf, sizeof(errbuf));

	reload_note(name, list == NULL ? errbuf : NULL);
	if (list == NULL)
	{
		where[0] = '\0';
		if (source == PGC_S_FILE)
			setting_location(name, *newval, where, sizeof(where));
		GUC_check_errmsg("invalid value for parameter \"%s\"%s", name, where);
		GUC_check_errdetail("%s", errbuf);
		return false;
	}
	free(list);
	return true;
}

#define LIST_HOOK(fn, names, a, allow_inherit) \
static bool \
fn(char **newval, void **extra, GucSource source) \
{ \
	return check_list(newval, source, names[a], allow_inherit); \
}

LIST_HOOK(check_global_allow, global_list_names, SECCOMP_ACTION_ALLOW, false)
LIST_HOOK(check_global_log, global_list_names, SECCOMP_ACTION_LOG, false)
LIST_HOOK(check_global_error, global_list_names, SECCOMP_ACTION_ERROR, false)
LIST_HOOK(check_global_kill, global_list_names, SECCOMP_ACTION_KILL, false)
LIST_HOOK(check_session_allow, session_list_names, SECCOMP_ACTION_ALLOW, true)
LIST_HOOK(check_session_log, session_list_names, SECCOMP_ACTION_LOG, true)
LIST_HOOK(check_session_error, session_list_names, SECCOMP_ACTION_ERROR, true)
LIST_HOOK(check_session_kill, session_list_names, SECCOMP_ACTION_KILL, true)

const GucStringCheckHook global_list_hooks[NUM_SECCOMP_ACTIONS] = {
	check_global_allow, check_global_log, check_global_error, check_global_kill
};
const GucStringCheckHook session_list_hooks[NUM_SECCOMP_ACTIONS] = {
	check_session_allow, check_session_log, check_session_error, check_session_kill
};

/*
 * The default actions are strings, not enums: PostgreSQL rejects a bad
 * enum value before any hook runs, and a reload must know of it.
 */
static bool
check_action(const char *name, const char *value)
{
	SeccompAction action;
	char		errbuf[ERRBUF_SIZE];

	if (parse_action(value, &action))
	{
		reload_note(name, NULL);
		return true;
	}
	snprintf(errbuf, sizeof(errbuf),
			 "Unknown action \"%s\": use allow, log, error or kill.", value);
	reload_note(name, errbuf);
	GUC_check_errdetail("Use allow, log, error or kill.");
	return false;
}

bool
check_global_default(char **newval, void **extra, GucSource source)
{
	return check_action(GLOBAL_DEFAULT_NAME, *newval);
}

bool
check_session_default(char **newval, void **extra, GucSource source)
{
	return check_action(SESSION_DEFAULT_NAME, *newval);
}

/* The on/off settings need no check; they only tell reload.c. */
bool
check_postmaster_bool(bool *newval, void **extra, GucSource source)
{
	reload_note(NULL, NULL);
	return true;
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

/*
 * Warn about each unquoted name in session_roles that PostgreSQL folds
 * (to lower case, and to NAMEDATALEN - 1 bytes), as it folds setting
 * names: session_roles = 'Joe' gives role "joe" the per-role lists, not
 * "Joe".  The value must be one split_session_roles() accepted.
 */
void
warn_folded_role_names(const char *value)
{
	List	   *roles = NIL;
	ListCell   *lc;
	const char *p = value;
	char		errbuf[ERRBUF_SIZE];
	MemoryContext context = AllocSetContextCreate(CurrentMemoryContext,
												  "pgseccomp role names",
												  ALLOCSET_SMALL_SIZES);
	MemoryContext oldcontext = MemoryContextSwitchTo(context);

	/* The postmaster runs this at every reload: free what it allocates. */
	if (!split_session_roles(value, &roles, errbuf, sizeof(errbuf)))
		roles = NIL;
	/* SplitIdentifierString keeps the order: walk the value beside it. */
	foreach(lc, roles)
	{
		const char *folded = lfirst(lc);
		const char *start;
		bool		quoted;

		while (scanner_isspace(*p) || *p == ',')
			p++;
		start = p;
		quoted = *p == '"';
		if (quoted)
		{
			for (p++; *p && !(*p == '"' && p[1] != '"'); p++)
				if (*p == '"')
					p++;		/* a doubled quote */
			if (*p)
				p++;
		}
		else
			while (*p && *p != ',' && !scanner_isspace(*p))
				p++;
		if (!quoted &&
			(strlen(folded) != p - start || strncmp(start, folded, p - start) != 0))
			ereport(WARNING,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("role name \"%.*s\" in %s folds to \"%s\"",
							(int) (p - start), start, SESSION_ROLES_NAME, folded),
					 errdetail("Unquoted names in %s are folded as SQL folds identifiers, so the per-role settings apply to role \"%s\".",
							   SESSION_ROLES_NAME, folded),
					 errhint("Write \"%s\" if that role is meant, or double-quote the name for a role whose name has upper-case letters.",
							 folded)));
	}
	MemoryContextSwitchTo(oldcontext);
	MemoryContextDelete(context);
}

bool
check_session_roles(char **newval, void **extra, GucSource source)
{
	char		errbuf[ERRBUF_SIZE];
	List	   *roles = NIL;

	if (!split_session_roles(*newval, &roles, errbuf, sizeof(errbuf)))
	{
		char		where[ERRBUF_SIZE];

		reload_note(SESSION_ROLES_NAME, errbuf);
		/* a list of roles can be long too: see check_list() */
		where[0] = '\0';
		if (source == PGC_S_FILE)
			setting_location(SESSION_ROLES_NAME, *newval, where, sizeof(where));
		GUC_check_errmsg("invalid value for parameter \"%s\"%s",
						 SESSION_ROLES_NAME, where);
		GUC_check_errdetail("%s", errbuf);
		return false;
	}
	reload_note(SESSION_ROLES_NAME, NULL);
	list_free(roles);
	return true;
}


/* Role names and per-role setting names compare as PostgreSQL's do. */
static void
fold_name(char *dst, const char *src, size_t size)
{
	size_t		i;

	for (i = 0; i + 1 < size && src[i] != '\0'; i++)
		dst[i] = pg_tolower((unsigned char) src[i]);
	dst[i] = '\0';
}

/*
 * The per-role settings of the listed roles, in a hash table (in the
 * current memory context) from the folded role name to a RoleSettings; a
 * value is NULL when the configuration does not set it.  (A line removed
 * from the file leaves its placeholder behind, with its source reset to the
 * default.)  One pass over the settings, so that a reload with many roles
 * stays cheap.
 *
 * A per-role setting that nothing reads is a restriction the DBA believes
 * in but does not have: a misspelt action, or a role missing from
 * session_roles.  Then NULL is returned, with the reason in errbuf.
 */
HTAB *
read_role_settings(List *roles, char *errbuf, size_t errbuf_size)
{
	HASHCTL		ctl;
	HTAB	   *table;
	ListCell   *lc;
	int			nvars;
	struct config_generic **vars;
	bool		ok = true;

	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(RoleSettings);
	ctl.hcxt = CurrentMemoryContext;
	table = hash_create("pgseccomp per-role settings",
						Max(list_length(roles), 16), &ctl,
						HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	foreach(lc, roles)
	{
		char		key[NAMEDATALEN];
		bool		found;
		RoleSettings *entry;

		fold_name(key, lfirst(lc), sizeof(key));
		entry = hash_search(table, key, HASH_ENTER, &found);
		if (!found)
			memset(entry->values, 0, sizeof(entry->values));
	}

	vars = guc_variables(&nvars);
	for (int i = 0; i < nvars && ok; i++)
	{
		struct config_generic *gen = vars[i];
		const char *dot;
		int			index = -1;
		char		key[NAMEDATALEN];
		RoleSettings *entry;

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
				index = p;
		if (index < 0)
		{
			snprintf(errbuf, errbuf_size,
					 "\"%s\" is not a per-role setting: per-role settings are session_syscall_allow, _log, _error, _kill or _default, followed by \".\" and the role name.",
					 gen->name);
			ok = false;
			break;
		}
		fold_name(key, dot + 1, sizeof(key));
		entry = strlen(dot + 1) < NAMEDATALEN ?
			hash_search(table, key, HASH_FIND, NULL) : NULL;
		if (entry == NULL)
		{
			snprintf(errbuf, errbuf_size,
					 "\"%s\" is set, but role \"%s\" is not listed in %s, so it would have no effect.",
					 gen->name, dot + 1, SESSION_ROLES_NAME);
			ok = false;
			break;
		}
		/* GetConfigOption, not the struct: its layout differs by major */
		entry->values[index] = GetConfigOption(gen->name, true, false);
	}
	free_guc_variables(vars);
	if (!ok)
	{
		hash_destroy(table);
		return NULL;
	}
	return table;
}

/* The per-role values of a listed role. */
const char *const *
role_settings_of(HTAB *table, const char *rolename)
{
	char		key[NAMEDATALEN];
	RoleSettings *entry;

	fold_name(key, rolename, sizeof(key));
	entry = hash_search(table, key, HASH_FIND, NULL);
	Assert(entry != NULL);
	return entry->values;
}
