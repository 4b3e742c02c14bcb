/*-------------------------------------------------------------------------
 *
 * pgseccomp.c
 *		Seccomp confinement for PostgreSQL: settings, start-up and hooks.
 *
 * The postmaster validates every setting, builds the global layer and the
 * session layers (one for sessions in general, one per listed role), and
 * loads the global filter, which every child process inherits.  It also
 * compiles each session layer into a BPF program, so that a new backend
 * only has to hand the ready program to the kernel.  On reload it rebuilds
 * the session layers and their programs, or keeps the old ones and logs
 * why.  A client backend, right after authentication, installs the session
 * layer of the role it authenticated as; nothing it does later changes
 * that.  Its parallel workers load the same layers (workers.c).
 *
 * The setting values belong to PostgreSQL's configuration system: this
 * file only reads them, and keeps its own copies of everything it derives.
 *
 *-------------------------------------------------------------------------
 */
#include "pgseccomp.h"

#include <signal.h>
#include <time.h>

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
const FilterLayer *session_layer = NULL;	/* loaded by this backend, if any */
FilterLayer *client_layer = NULL;	/* loaded by set_client_filter() */
static SessionPlan *session_plan = NULL;	/* built by the postmaster */
static const char *global_denies_loader = NULL; /* see _PG_init */

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

/* Compile one planned layer; false with the reason in errbuf. */
static bool
compile_planned_layer(const FilterLayer *layer, struct sock_fprog *program,
					  char **worker_value, const char *rolename,
					  char *errbuf, size_t errbuf_size)
{
	const char *failed_call;
	FilterLayer *over = global_layer ? layer_over_global(layer, global_layer) :
		copy_layer(layer);
	int			rc = build_program(over, program, &failed_call);

	pfree(over);
	*worker_value = encode_worker_filters(layer, NULL);
	if (rc < 0)
		snprintf(errbuf, errbuf_size,
				 "Compiling the session filter%s%s%s failed: %s failed: %s.",
				 rolename ? " of role \"" : "", rolename ? rolename : "",
				 rolename ? "\"" : "", failed_call, strerror(-rc));
	return rc == 0;
}

/* Compile every layer of the plan; false with the reason in errbuf. */
static bool
compile_session_plan(SessionPlan *plan, char *errbuf, size_t errbuf_size)
{
	MemoryContext oldcontext = MemoryContextSwitchTo(plan->context);
	bool		ok;

	ok = compile_planned_layer(plan->default_layer, &plan->default_program,
							   &plan->default_worker_value,
							   NULL, errbuf, errbuf_size);
	for (int r = 0; ok && r < plan->nroles; r++)
		ok = compile_planned_layer(plan->roles[r].layer,
								   &plan->roles[r].program,
								   &plan->roles[r].worker_value,
								   plan->roles[r].rolename,
								   errbuf, errbuf_size);
	MemoryContextSwitchTo(oldcontext);
	return ok;
}

/* The session layers the current settings give, or NULL; see errbuf. */
static SessionPlan *
planned_session_layers(char *errbuf, size_t errbuf_size)
{
	LayerSettings session = session_settings();

	return build_session_plan(global_layer, &session, session_roles_value,
							  errbuf, errbuf_size);
}

/* ---- loading filters ---- */

static double
elapsed_microseconds(const struct timespec *start)
{
	struct timespec end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	return (end.tv_sec - start->tv_sec) * 1e6 +
		(end.tv_nsec - start->tv_nsec) / 1e3;
}

/*
 * Install the session layer planned for the role, or refuse the connection.
 * Everything was prepared by the postmaster, and the plan, inherited with
 * fork, never changes in a backend, so this is a lookup, one setting and
 * one syscall.  The time it takes, from here to the kernel's answer, and
 * the syscall's share, are logged at DEBUG1 (make bench reads them).
 */
static void
load_session_layer(const char *rolename)
{
	const FilterLayer *planned = session_plan->default_layer;
	const struct sock_fprog *program = &session_plan->default_program;
	const char *worker_value = session_plan->default_worker_value;
	struct timespec start;
	struct timespec syscall_start;
	double		syscall_us;
	int			rc;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (int r = 0; r < session_plan->nroles; r++)
	{
		if (strcmp(session_plan->roles[r].rolename, rolename) == 0)
		{
			planned = session_plan->roles[r].layer;
			program = &session_plan->roles[r].program;
			worker_value = session_plan->roles[r].worker_value;
			break;
		}
	}

	if (global_denies_loader != NULL)
		ereport(FATAL,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("could not load the pgseccomp session filter for role \"%s\"",
						rolename),
				 errdetail("The global filter denies the %s syscall, which loading a filter needs.",
						   global_denies_loader),
				 errhint("Add it to %s and restart the server.",
						 global_list_names[SECCOMP_ACTION_ALLOW])));

	/* Publish first: once loaded, nothing may fail. */
	publish_worker_filters(worker_value);
	clock_gettime(CLOCK_MONOTONIC, &syscall_start);
	rc = install_program(program);
	syscall_us = elapsed_microseconds(&syscall_start);
	if (rc < 0)
		ereport(FATAL,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not load the pgseccomp session filter for role \"%s\": %s",
						rolename, strerror(-rc))));
	session_layer = planned;
	ereport(DEBUG1,
			(errmsg_internal("pgseccomp: installed the session filter for role \"%s\" in %.1f us (seccomp() %.1f us)",
							 rolename, elapsed_microseconds(&start), syscall_us)));
}

/*
 * The program the postmaster compiled for a role listed in session_roles,
 * as inherited with fork; NULL for a role that is not listed.
 */
const struct sock_fprog *
planned_role_program(const char *rolename)
{
	for (int r = 0; r < session_plan->nroles; r++)
		if (strcmp(session_plan->roles[r].rolename, rolename) == 0)
			return &session_plan->roles[r].program;
	return NULL;
}

/* Called by set_client_filter() once it has checked its arguments. */
void
load_client_layer(FilterLayer *layer)
{
	const FilterLayer *loaded[2] = {global_layer, session_layer};
	const char *failed_call;
	const char *denied;
	MemoryContext oldcontext;
	FilterLayer *copy;
	int			rc;

	denied = denied_loader_syscall(loaded, 2);
	if (denied != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("could not load the client filter"),
				 errdetail("The filters of this session deny the %s syscall, which loading a filter needs.",
						   denied),
				 errhint("Allow it in %s and %s.",
						 global_list_names[SECCOMP_ACTION_ALLOW],
						 session_list_names[SECCOMP_ACTION_ALLOW])));

	/* Copy and publish first: once loaded, nothing may fail. */
	oldcontext = MemoryContextSwitchTo(TopMemoryContext);
	copy = copy_layer(layer);
	MemoryContextSwitchTo(oldcontext);
	publish_worker_filters(encode_worker_filters(session_layer, copy));

	rc = load_layer(layer, false, &failed_call);
	if (rc < 0)
	{
		/* Not loaded: workers must not get it either. */
		publish_worker_filters(encode_worker_filters(session_layer, NULL));
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
	SessionPlan *plan = planned_session_layers(errbuf, sizeof(errbuf));

	if (plan != NULL && !compile_session_plan(plan, errbuf, sizeof(errbuf)))
	{
		MemoryContextDelete(plan->context);
		plan = NULL;
	}
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
	warn_folded_role_names(session_roles_value);
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
								   global_list_checks[a], NULL, NULL);
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
								   session_list_checks[a], NULL, NULL);
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
	DefineCustomBoolVariable(ALLOW_SSB_NAME,
							 "Exempts confined processes from the kernel's speculative store bypass mitigation.",
							 "Off leaves the choice to the kernel, which on some kernels "
							 "(spec_store_bypass_disable=seccomp, the default before Linux 5.16) "
							 "forces the mitigation, and its cost, on every filtered process.",
							 &pgseccomp_allow_ssb, false,
							 PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomStringVariable(WORKER_FILTERS_NAME,
							   "The filters of a session, for its parallel workers (set by pgseccomp).",
							   NULL,
							   &worker_filters_value, "",
							   PGC_SUSET,
							   GUC_NO_SHOW_ALL | GUC_NO_RESET_ALL |
							   GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE |
							   GUC_DISALLOW_IN_AUTO_FILE | GUC_SUPERUSER_ONLY,
							   check_worker_filters, assign_worker_filters,
							   NULL);
	define_hardening_settings();
	define_role_code_settings();
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

/*
 * Refuse to start with a setting's value, saying where it is set.  The
 * value is quoted only when it is one word (an action, on or off): a list
 * can be long, and its detail names the offending word.
 */
static void
reject_setting(const char *name, const char *value, bool quote_value,
			   const char *detail)
{
	char		where[ERRBUF_SIZE];

	setting_location(name, value, where, sizeof(where));
	ereport(FATAL,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 quote_value ?
			 errmsg("invalid value for parameter \"%s\"%s: \"%s\"", name, where, value) :
			 errmsg("invalid value for parameter \"%s\"%s", name, where),
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
		reject_setting(name, value, false, errbuf);
	free(list);
}

static void
check_configured_action(const char *name, const char *value)
{
	SeccompAction action;

	if (value != NULL && !parse_action(value, &action))
		reject_setting(name, value, true, "Use allow, log, error or kill.");
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
	char	   *worker_filters;
	char		errbuf[ERRBUF_SIZE];
	List	   *roles = NIL;
	bool		enabled;
	int			rc;
	const char *failed_call;
	const char *denied;
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
	worker_filters = configured_value(WORKER_FILTERS_NAME);

	define_settings();

	/* Only pgseccomp sets it (workers.c); a configured value is a mistake. */
	if (worker_filters != NULL)
		reject_setting(WORKER_FILTERS_NAME, worker_filters, false,
					   "pgseccomp sets this parameter itself, to give a session's filters to its parallel workers; remove it from the configuration.");

	/* An unreadable on/off switch must not quietly mean "off". */
	if (enabled_value != NULL && !parse_bool(enabled_value, &enabled))
		reject_setting(ENABLED_NAME, enabled_value, true, "Use on or off.");

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
		reject_setting(SESSION_ROLES_NAME, session_roles, false, errbuf);
	if (session_roles != NULL)
		warn_folded_role_names(session_roles);

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

	session_plan = planned_session_layers(errbuf, sizeof(errbuf));
	if (session_plan == NULL)
		ereport(FATAL,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid pgseccomp session settings"),
				 errdetail_internal("%s", errbuf),
				 errhint("pgseccomp does not start with a setting it cannot apply; correct it in the configuration.")));

	/*
	 * Not fatal, since the server still runs, but say it at once.  The
	 * global layer never changes, so neither does the answer.
	 */
	denied = global_denies_loader =
		denied_loader_syscall((const FilterLayer *const *) &global_layer, 1);
	if (denied != NULL)
		ereport(WARNING,
				(errmsg("pgseccomp: every connection will be refused"),
				 errdetail("The global filter denies the %s syscall, which loading a session filter needs.",
						   denied),
				 errhint("Add it to %s and restart the server.",
						 global_list_names[SECCOMP_ACTION_ALLOW])));

	if (IsPostmasterEnvironment && !IsUnderPostmaster)
		harden_postmaster();

	rc = load_layer(global_layer, true, &failed_call);
	if (rc < 0)
		ereport(FATAL,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not load the pgseccomp global filter: %s failed: %s",
						failed_call, strerror(-rc)),
				 errhint("Check that the kernel supports seccomp filters and that no outer filter (a container runtime's profile, systemd's SystemCallFilter=) denies the seccomp or prctl syscalls.")));

	/* Compiled under the global filter, as on every reload. */
	if (!compile_session_plan(session_plan, errbuf, sizeof(errbuf)))
		ereport(FATAL,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not compile the pgseccomp session filters"),
				 errdetail_internal("%s", errbuf),
				 errhint("Check that the global filter allows the syscalls it takes: pipe2, fcntl, write, read and close.")));

	prev_client_authentication_hook = ClientAuthentication_hook;
	ClientAuthentication_hook = pgseccomp_client_authentication;
	install_role_code_hook();

	if (IsPostmasterEnvironment && !IsUnderPostmaster)
		wrap_postmaster_sighup_handler();

	ereport(LOG,
			(errmsg("pgseccomp: loaded the global filter (default action \"%s\", %d syscalls listed)",
					seccomp_action_names[global_layer->default_action],
					global_layer->count)));
}
