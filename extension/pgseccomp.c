/*-------------------------------------------------------------------------
 *
 * pgseccomp.c
 *		Seccomp confinement for PostgreSQL: settings, start-up and hooks.
 *
 * The postmaster validates every setting, builds the global layer and the
 * session layers (one for sessions in general, one per listed role), and
 * loads the global filter, which every child process inherits.  On reload
 * it rebuilds the session layers, or keeps the old ones and logs why.  A
 * client backend, right after authentication, loads the session layer of
 * the role it authenticated as; nothing it does later changes that.
 *
 * The setting values belong to PostgreSQL's configuration system: this
 * file only reads them, and keeps its own copies of everything it derives.
 *
 *-------------------------------------------------------------------------
 */
#include "pgseccomp.h"

#include <signal.h>

#include "fmgr.h"
#include "libpq/auth.h"
#include "libpq/libpq-be.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

PG_MODULE_MAGIC;

#if PG_VERSION_NUM < 150000 || PG_VERSION_NUM >= 160000
#error "pgseccomp supports PostgreSQL 15 only"
#endif

void		_PG_init(void);

/* The settings, owned by the configuration system: read, never written. */
bool		pgseccomp_enabled = false;
static char *global_list_values[NUM_SECCOMP_ACTIONS];
static int	global_default_value = SECCOMP_ACTION_ALLOW;
static char *session_list_values[NUM_SECCOMP_ACTIONS];
static int	session_default_value = SECCOMP_ACTION_ALLOW;
static char *session_roles_value;


static const struct config_enum_entry action_options[] = {
	{"allow", SECCOMP_ACTION_ALLOW, false},
	{"log", SECCOMP_ACTION_LOG, false},
	{"error", SECCOMP_ACTION_ERROR, false},
	{"kill", SECCOMP_ACTION_KILL, false},
	{NULL, 0, false}
};

/* What this process derived from the settings, and what it has loaded. */
FilterLayer *global_layer = NULL;	/* loaded by the postmaster */
FilterLayer *session_layer = NULL;	/* loaded by this backend, if any */
FilterLayer *client_layer = NULL;	/* loaded by set_client_filter() */
static SessionPlan *session_plan = NULL;	/* built by the postmaster */

static ClientAuthentication_hook_type prev_client_authentication_hook = NULL;
static void (*prev_sighup_handler) (SIGNAL_ARGS) = NULL;



/* ---- the current values of the layers' settings ---- */

static LayerSettings
global_settings(void)
{
	LayerSettings settings;

	for (int a = 0; a < NUM_SECCOMP_ACTIONS; a++)
		settings.lists[a] = global_list_values[a];
	settings.default_action = (SeccompAction) global_default_value;
	return settings;
}

static LayerSettings
session_settings(void)
{
	LayerSettings settings;

	for (int a = 0; a < NUM_SECCOMP_ACTIONS; a++)
		settings.lists[a] = session_list_values[a];
	settings.default_action = (SeccompAction) session_default_value;
	return settings;
}

static SessionPlan *
current_session_plan(char *errbuf, size_t errbuf_size)
{
	LayerSettings session = session_settings();

	return build_session_plan(global_layer, &session, session_roles_value,
							  errbuf, errbuf_size);
}


/* ---- loading filters ---- */

static void
load_session_layer(const char *rolename)
{
	const FilterLayer *planned = session_plan->default_layer;
	const char *failed_call;
	char	   *denied;
	MemoryContext oldcontext;
	FilterLayer *copy;
	int			rc;

	for (int r = 0; r < session_plan->nroles; r++)
		if (strcmp(session_plan->roles[r].rolename, rolename) == 0)
			planned = session_plan->roles[r].layer;

	denied = denied_loader_syscalls((const FilterLayer *const *) &global_layer, 1);
	if (denied != NULL)
		ereport(FATAL,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("could not load the pgseccomp session filter for role \"%s\"",
						rolename),
				 errdetail("The global filter denies syscalls that loading a filter needs: %s.",
						   denied),
				 errhint("Add them to %s and restart the server.",
						 global_list_names[SECCOMP_ACTION_ALLOW])));

	/* Copy first: once loaded, nothing may fail before it is recorded. */
	oldcontext = MemoryContextSwitchTo(TopMemoryContext);
	copy = copy_layer(planned);
	MemoryContextSwitchTo(oldcontext);

	rc = load_layer(planned, &failed_call);
	if (rc < 0)
		ereport(FATAL,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not load the pgseccomp session filter for role \"%s\": %s failed: %s",
						rolename, failed_call, strerror(-rc))));
	session_layer = copy;
	ereport(DEBUG1,
			(errmsg_internal("pgseccomp: loaded the session filter for role \"%s\"",
							 rolename)));
}

/* Called by set_client_filter() once it has checked its arguments. */
void
load_client_layer(FilterLayer *layer)
{
	const FilterLayer *loaded[2] = {global_layer, session_layer};
	const char *failed_call;
	char	   *denied;
	MemoryContext oldcontext;
	FilterLayer *copy;
	int			rc;

	denied = denied_loader_syscalls(loaded, 2);
	if (denied != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("could not load the client filter"),
				 errdetail("The filters of this session deny syscalls that loading a filter needs: %s.",
						   denied),
				 errhint("Allow them in %s and %s.",
						 global_list_names[SECCOMP_ACTION_ALLOW],
						 session_list_names[SECCOMP_ACTION_ALLOW])));

	/* Copy first: once loaded, nothing may fail before it is recorded. */
	oldcontext = MemoryContextSwitchTo(TopMemoryContext);
	copy = copy_layer(layer);
	MemoryContextSwitchTo(oldcontext);

	rc = load_layer(layer, &failed_call);
	if (rc < 0)
	{
		pfree(copy);
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not load the client filter: %s failed: %s",
						failed_call, strerror(-rc))));
	}
	client_layer = copy;
}

/*
 * Right after a client authenticates (walsenders included): load the
 * session layer of the role it authenticated as, or refuse the connection.
 */
static void
pgseccomp_client_authentication(Port *port, int status)
{
	if (prev_client_authentication_hook)
		prev_client_authentication_hook(port, status);
	if (status != STATUS_OK)
		return;
	load_session_layer(port->user_name);
}


/* ---- reload: rebuild the session layers in the postmaster ---- */

static void
rebuild_session_plan(void)
{
	char		errbuf[ERRBUF_SIZE];
	SessionPlan *plan = current_session_plan(errbuf, sizeof(errbuf));

	if (plan == NULL)
	{
		ereport(LOG,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("pgseccomp session settings not applied; new sessions keep the previous session filters"),
				 errdetail_internal("%s", errbuf),
				 errhint("Correct the setting and reload the configuration.")));
		return;
	}
	MemoryContextDelete(session_plan->context);
	session_plan = plan;
	ereport(DEBUG1,
			(errmsg_internal("pgseccomp: rebuilt the session filters for %d listed roles",
							 plan->nroles)));
}

/*
 * PostgreSQL 15's postmaster reloads its configuration inside its SIGHUP
 * handler (with every other signal blocked), and has no hook for the end
 * of a reload.  So the postmaster's handler is wrapped: after it has
 * re-read the configuration, the session layers are rebuilt.  Children
 * install their own SIGHUP handlers and never run this.
 */
static void
pgseccomp_postmaster_sighup(SIGNAL_ARGS)
{
	int			save_errno = errno;

	prev_sighup_handler(postgres_signal_arg);
	rebuild_session_plan();
	errno = save_errno;
}

static void
wrap_postmaster_sighup_handler(void)
{
	struct sigaction action;

	if (sigaction(SIGHUP, NULL, &action) < 0 ||
		(action.sa_flags & SA_SIGINFO) ||
		action.sa_handler == SIG_DFL || action.sa_handler == SIG_IGN)
		ereport(FATAL,
				(errmsg("pgseccomp could not find the postmaster's SIGHUP handler"),
				 errdetail("Without it, per-role session settings could not be re-read on reload.")));
	prev_sighup_handler = action.sa_handler;
	action.sa_handler = pgseccomp_postmaster_sighup;
	if (sigaction(SIGHUP, &action, NULL) < 0)
		ereport(FATAL,
				(errmsg("pgseccomp could not install its SIGHUP handler: %m")));
}


/* ---- start-up ---- */

static void
define_settings(void)
{
	DefineCustomBoolVariable(ENABLED_NAME,
							 "Turns seccomp confinement of PostgreSQL on or off.",
							 "Off means no filter is ever loaded.",
							 &pgseccomp_enabled, false,
							 PGC_POSTMASTER, 0, NULL, NULL, NULL);

	for (int a = 0; a < NUM_SECCOMP_ACTIONS; a++)
		DefineCustomStringVariable(global_list_names[a],
								   psprintf("Syscalls the global (postmaster) filter gives the action \"%s\".",
											seccomp_action_names[a]),
								   "A comma-separated list of syscall names.",
								   &global_list_values[a], "",
								   PGC_POSTMASTER, 0,
								   check_global_list, NULL, NULL);
	DefineCustomEnumVariable(GLOBAL_DEFAULT_NAME,
							 "Action of the global filter for syscalls no global list names.",
							 NULL,
							 &global_default_value, SECCOMP_ACTION_ALLOW,
							 action_options, PGC_POSTMASTER, 0,
							 NULL, NULL, NULL);

	for (int a = 0; a < NUM_SECCOMP_ACTIONS; a++)
		DefineCustomStringVariable(session_list_names[a],
								   psprintf("Syscalls the session filter gives the action \"%s\".",
											seccomp_action_names[a]),
								   "A comma-separated list of syscall names; \"*\" uses the global list.",
								   &session_list_values[a], "*",
								   PGC_SIGHUP, 0,
								   check_session_list, NULL, NULL);
	DefineCustomEnumVariable(SESSION_DEFAULT_NAME,
							 "Action of the session filter for syscalls no session list names.",
							 NULL,
							 &session_default_value, SECCOMP_ACTION_ALLOW,
							 action_options, PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomStringVariable(SESSION_ROLES_NAME,
							   "Roles with their own session settings (session_syscall_<action>.<role>).",
							   NULL,
							   &session_roles_value, "",
							   PGC_SIGHUP, 0,
							   check_session_roles, NULL, NULL);
}

/*
 * The configuration's value of one of our settings, before the setting is
 * defined, or NULL.  Defining a setting applies such a value only with a
 * WARNING when it is invalid, and falls back to the default: pgseccomp
 * checks these values itself and refuses to start instead.
 */
static char *
configured_value(const char *name)
{
	const char *value = GetConfigOption(name, true, false);

	return value ? pstrdup(value) : NULL;
}

static void
reject_setting(const char *name, const char *value, const char *detail)
{
	ereport(FATAL,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for parameter \"%s\": \"%s\"", name, value),
			 errdetail_internal("%s", detail),
			 errhint("pgseccomp does not start with a setting it cannot apply; correct it in the configuration.")));
}

static void
check_configured_list(const char *name, const char *value, bool allow_inherit)
{
	char		errbuf[ERRBUF_SIZE];
	SyscallList *list;

	if (value == NULL)
		return;
	list = parse_syscall_list(value, allow_inherit, errbuf, sizeof(errbuf));
	if (list == NULL)
		reject_setting(name, value, errbuf);
	free(list);
}

static void
check_configured_action(const char *name, const char *value)
{
	SeccompAction action;

	if (value != NULL && !parse_action(value, &action))
		reject_setting(name, value, "Use allow, log, error or kill.");
}

/* Refuse misspelt pgseccomp.* settings: each would be a silent no-op. */
static void
check_unknown_settings(void)
{
	struct config_generic **vars = get_guc_variables();
	int			nvars = GetNumConfigOptions();

	for (int i = 0; i < nvars; i++)
		if ((vars[i]->flags & GUC_CUSTOM_PLACEHOLDER) &&
			pg_strncasecmp(vars[i]->name, "pgseccomp.", 10) == 0)
			ereport(FATAL,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("unrecognized configuration parameter \"%s\"",
							vars[i]->name),
					 errhint("pgseccomp does not start with a setting it does not know; correct or remove it.")));
}

void
_PG_init(void)
{
	char	   *enabled_value;
	char	   *global_values[NUM_SECCOMP_ACTIONS];
	char	   *session_values[NUM_SECCOMP_ACTIONS];
	char	   *global_default;
	char	   *session_default;
	char	   *session_roles;
	char		errbuf[ERRBUF_SIZE];
	List	   *roles = NIL;
	bool		enabled;
	int			rc;
	const char *failed_call;
	char	   *denied;
	MemoryContext oldcontext;
	LayerSettings settings;
	FilterLayer *layer;

	if (!process_shared_preload_libraries_in_progress)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pgseccomp must be loaded via shared_preload_libraries"),
				 errhint("Add pgseccomp to shared_preload_libraries in postgresql.conf and restart the server.")));

	enabled_value = configured_value(ENABLED_NAME);
	for (int a = 0; a < NUM_SECCOMP_ACTIONS; a++)
	{
		global_values[a] = configured_value(global_list_names[a]);
		session_values[a] = configured_value(session_list_names[a]);
	}
	global_default = configured_value(GLOBAL_DEFAULT_NAME);
	session_default = configured_value(SESSION_DEFAULT_NAME);
	session_roles = configured_value(SESSION_ROLES_NAME);

	define_settings();

	/* An unreadable on/off switch must not quietly mean "off". */
	if (enabled_value != NULL && !parse_bool(enabled_value, &enabled))
		reject_setting(ENABLED_NAME, enabled_value, "Use on or off.");

	if (!pgseccomp_enabled)
	{
		MarkGUCPrefixReserved("pgseccomp");
		return;
	}

	check_unknown_settings();
	MarkGUCPrefixReserved("pgseccomp");
	for (int a = 0; a < NUM_SECCOMP_ACTIONS; a++)
	{
		check_configured_list(global_list_names[a], global_values[a], false);
		check_configured_list(session_list_names[a], session_values[a], true);
	}
	check_configured_action(GLOBAL_DEFAULT_NAME, global_default);
	check_configured_action(SESSION_DEFAULT_NAME, session_default);
	if (session_roles != NULL &&
		!split_session_roles(session_roles, &roles, errbuf, sizeof(errbuf)))
		reject_setting(SESSION_ROLES_NAME, session_roles, errbuf);

	settings = global_settings();
	oldcontext = MemoryContextSwitchTo(TopMemoryContext);
	layer = build_global_layer(&settings, errbuf, sizeof(errbuf));
	MemoryContextSwitchTo(oldcontext);
	if (layer == NULL)
		ereport(FATAL,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid pgseccomp global settings"),
				 errdetail_internal("%s", errbuf),
				 errhint("Name each syscall in at most one global list.")));
	global_layer = layer;

	session_plan = current_session_plan(errbuf, sizeof(errbuf));
	if (session_plan == NULL)
		ereport(FATAL,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid pgseccomp session settings"),
				 errdetail_internal("%s", errbuf),
				 errhint("pgseccomp does not start with a setting it cannot apply; correct it in the configuration.")));

	/* Not fatal, since the server still runs, but say it at once. */
	denied = denied_loader_syscalls((const FilterLayer *const *) &global_layer, 1);
	if (denied != NULL)
		ereport(WARNING,
				(errmsg("pgseccomp: every connection will be refused"),
				 errdetail("The global filter denies syscalls that loading a session filter needs: %s.",
						   denied),
				 errhint("Add them to %s and restart the server.",
						 global_list_names[SECCOMP_ACTION_ALLOW])));

	rc = load_layer(global_layer, &failed_call);
	if (rc < 0)
		ereport(FATAL,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not load the pgseccomp global filter: %s failed: %s",
						failed_call, strerror(-rc)),
				 errhint("Check that the kernel supports seccomp filters and that no outer filter (a container runtime's profile, systemd's SystemCallFilter=) denies the seccomp or prctl syscalls.")));

	prev_client_authentication_hook = ClientAuthentication_hook;
	ClientAuthentication_hook = pgseccomp_client_authentication;

	if (IsPostmasterEnvironment && !IsUnderPostmaster)
		wrap_postmaster_sighup_handler();

	ereport(LOG,
			(errmsg("pgseccomp: loaded the global filter (default action \"%s\", %d syscalls listed)",
					seccomp_action_names[global_layer->default_action],
					global_layer->count)));
}
