/*-------------------------------------------------------------------------
 *
 * pgseccomp.c
 *		Seccomp confinement for PostgreSQL: settings, start-up and hooks.
 *
 * The postmaster validates every setting, builds the global layer and the
 * session layers (one for sessions in general, one per listed role), and
 * loads the global filter, which every child process inherits.  It also
 * compiles each session layer into a BPF program, so that a new backend
 * only has to hand the ready program to the kernel.  After a reload
 * (reload.c says when) it rebuilds the session layers and their programs,
 * or keeps the old ones and logs why.  A client backend, right after
 * authentication, installs the session layer of the role it authenticated
 * as (or is refused if a reload replaced its plan meanwhile); nothing it
 * does later changes that.  Its parallel workers load the same layers
 * (workers.c).
 *
 * The setting values belong to PostgreSQL's configuration system: this
 * file only reads them, and keeps its own copies of everything it derives.
 *
 * Go twin: internal/policy (build.go builds the same plan from the same settings).
 *
 *-------------------------------------------------------------------------
 */
#include "pgseccomp.h"

#include <time.h>

#include "fmgr.h"
#include "libpq/auth.h"
#include "libpq/libpq-be.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "common/hashfn.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* The settings, owned by the configuration system: read, never written. */
bool		pgseccomp_enabled = false;
static char *global_list_values[NUM_SECCOMP_ACTIONS];
static char *global_default_value;
static char *session_list_values[NUM_SECCOMP_ACTIONS];
static char *session_default_value;
static char *session_roles_value;

/* What this process derived from the settings, and what it has loaded. */
FilterLayer *global_layer = NULL;	/* loaded by the postmaster */
const FilterLayer *session_layer = NULL;	/* loaded by this backend, if any */
FilterLayer *client_layer = NULL;	/* loaded by set_client_filter() */
static SessionPlan *session_plan = NULL;	/* built by the postmaster */
static const char *global_denies_loader = NULL; /* see _PG_init */

static ClientAuthentication_hook_type prev_client_authentication_hook = NULL;



static double
elapsed_microseconds(const struct timespec *start)
{
	struct timespec end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	return (end.tv_sec - start->tv_sec) * 1e6 +
		(end.tv_nsec - start->tv_nsec) / 1e3;
}

/* ---- the current values of the layers' settings ---- */

/* A default action's value; the check hook let only valid ones through. */
static SeccompAction
default_action(const char *value)
{
	SeccompAction action = SECCOMP_ACTION_ALLOW;

	(void) parse_action(value, &action);
	return action;
}

static LayerSettings
global_settings(void)
{
	LayerSettings settings;

	for (int a = 0; a < NUM_SECCOMP_ACTIONS; a++)
		settings.lists[a] = global_list_values[a];
	settings.default_action = default_action(global_default_value);
	return settings;
}

static LayerSettings
session_settings(void)
{
	LayerSettings settings;

	for (int a = 0; a < NUM_SECCOMP_ACTIONS; a++)
		settings.lists[a] = session_list_values[a];
	settings.default_action = default_action(session_default_value);
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

/*
 * A program already compiled for a layer, in this plan or in the one it
 * replaces: roles with identical lists share one program, and a reload
 * recompiles only the layers whose lists changed.
 */
typedef struct CompiledLayer
{
	uint32		hash;			/* of the layer; the key */
	const FilterLayer *layer;
	struct sock_fprog program;
	char	   *worker_value;
	bool		in_plan;		/* allocated in the new plan's context */
} CompiledLayer;

typedef struct CompileState
{
	HTAB	   *compiled;
	int			ncompiled;
	int			nreused;
} CompileState;

static uint32
layer_hash(const FilterLayer *layer)
{
	return hash_bytes((const unsigned char *) layer,
					  offsetof(FilterLayer, rules) +
					  layer->count * sizeof(SyscallRule));
}

static void
remember_layer(CompileState *state, const FilterLayer *layer,
			   const struct sock_fprog *program, char *worker_value,
			   bool in_plan)
{
	uint32		hash = layer_hash(layer);
	CompiledLayer *entry = hash_search(state->compiled, &hash, HASH_ENTER, NULL);

	entry->layer = layer;
	entry->program = *program;
	entry->worker_value = worker_value;
	entry->in_plan = in_plan;
}

/*
 * The program of one planned layer: reused if an identical layer has one,
 * else compiled.  False with the reason in errbuf.
 */
static bool
plan_layer_program(CompileState *state, const FilterLayer *layer,
				   struct sock_fprog *program, char **worker_value,
				   const char *rolename, char *errbuf, size_t errbuf_size)
{
	uint32		hash = layer_hash(layer);
	CompiledLayer *entry = hash_search(state->compiled, &hash, HASH_FIND, NULL);

	if (entry != NULL && layers_equal(entry->layer, layer))
	{
		if (!entry->in_plan)
		{
			/* from the plan being replaced: copy it into this one */
			Size		size = entry->program.len * sizeof(struct sock_filter);
			struct sock_filter *filter = palloc(size);

			memcpy(filter, entry->program.filter, size);
			entry->program.filter = filter;
			entry->worker_value = pstrdup(entry->worker_value);
			entry->layer = layer;
			entry->in_plan = true;
		}
		*program = entry->program;
		*worker_value = entry->worker_value;
		state->nreused++;
		return true;
	}
	if (!compile_planned_layer(layer, program, worker_value, rolename,
							   errbuf, errbuf_size))
		return false;
	remember_layer(state, layer, program, *worker_value, true);
	state->ncompiled++;
	return true;
}

/*
 * Compile every layer of the plan, reusing the programs of previous (NULL
 * at start) where a layer did not change; false with the reason in errbuf.
 */
static bool
compile_session_plan(SessionPlan *plan, const SessionPlan *previous,
					 char *errbuf, size_t errbuf_size)
{
	MemoryContext oldcontext = MemoryContextSwitchTo(plan->context);
	CompileState state = {0};
	HASHCTL		ctl;
	struct timespec start;
	bool		ok;

	clock_gettime(CLOCK_MONOTONIC, &start);
	ctl.keysize = sizeof(uint32);
	ctl.entrysize = sizeof(CompiledLayer);
	ctl.hcxt = plan->context;
	state.compiled = hash_create("pgseccomp compiled layers", 64, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	if (previous != NULL)
	{
		remember_layer(&state, previous->default_layer,
					   &previous->default_program,
					   previous->default_worker_value, false);
		for (int r = 0; r < previous->nroles; r++)
			remember_layer(&state, previous->roles[r].layer,
						   &previous->roles[r].program,
						   previous->roles[r].worker_value, false);
	}

	ok = plan_layer_program(&state, plan->default_layer, &plan->default_program,
							&plan->default_worker_value,
							NULL, errbuf, errbuf_size);
	for (int r = 0; ok && r < plan->nroles; r++)
		ok = plan_layer_program(&state, plan->roles[r].layer,
								&plan->roles[r].program,
								&plan->roles[r].worker_value,
								plan->roles[r].rolename,
								errbuf, errbuf_size);
	hash_destroy(state.compiled);
	MemoryContextSwitchTo(oldcontext);
	if (ok)
		ereport(DEBUG1,
				(errmsg_internal("pgseccomp: compiled %d session filter programs and reused %d for %d listed roles in %.1f ms",
								 state.ncompiled, state.nreused, plan->nroles,
								 elapsed_microseconds(&start) / 1000.0)));
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

	/*
	 * The plan was inherited when this backend was forked; a reload may
	 * have replaced it since.  Never load an outdated plan (SPEC 4).
	 */
	if (!reload_plan_is_current(session_plan->generation))
		ereport(FATAL,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pgseccomp session filters changed while role \"%s\" was authenticating",
						rolename),
				 errdetail("The configuration was reloaded after this connection started, and this connection's copy of the session filters is out of date."),
				 errhint("Reconnect.")));

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

static bool
same_plan(const SessionPlan *a, const SessionPlan *b)
{
	if (a->nroles != b->nroles || !layers_equal(a->default_layer, b->default_layer))
		return false;
	for (int r = 0; r < a->nroles; r++)
		if (strcmp(a->roles[r].rolename, b->roles[r].rolename) != 0 ||
			!layers_equal(a->roles[r].layer, b->roles[r].layer))
			return false;
	return true;
}

/*
 * After a reload (reload.c): build and compile the session plan the new
 * settings give, and put it in force; or, when any pgseccomp setting of the
 * reload was rejected (rejected_detail), or the new plan cannot be built,
 * keep the whole previous plan and say why.  A plan equal to the one in
 * force changes nothing, not even its generation.
 */
void
reload_session_plan(const char *rejected_setting, const char *rejected_detail)
{
	char		errbuf[ERRBUF_SIZE];
	SessionPlan *plan = NULL;
	struct timespec start;

	if (session_plan == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &start);
	if (rejected_detail == NULL)
	{
		plan = planned_session_layers(errbuf, sizeof(errbuf));
		if (plan != NULL)
			warn_folded_role_names(session_roles_value);
		if (plan != NULL && same_plan(plan, session_plan))
		{
			MemoryContextDelete(plan->context);
			reload_publish(session_plan->generation, NULL, NULL);
			ereport(DEBUG1,
					(errmsg_internal("pgseccomp: the session filters did not change (checked in %.1f ms)",
									 elapsed_microseconds(&start) / 1000.0)));
			return;
		}
		if (plan != NULL &&
			!compile_session_plan(plan, session_plan, errbuf, sizeof(errbuf)))
		{
			MemoryContextDelete(plan->context);
			plan = NULL;
		}
		if (plan == NULL)
			rejected_detail = errbuf;
	}
	if (plan == NULL)
	{
		if (rejected_setting != NULL && rejected_setting[0] != '\0')
			ereport(LOG,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("pgseccomp session settings not applied; new sessions keep the previous session filters"),
					 errdetail_internal("The reload rejected %s. %s",
										rejected_setting, rejected_detail),
					 errhint("Correct the setting and reload the configuration.")));
		else
			ereport(LOG,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("pgseccomp session settings not applied; new sessions keep the previous session filters"),
					 errdetail_internal("%s", rejected_detail),
					 errhint("Correct the setting and reload the configuration.")));
		reload_publish(session_plan->generation, rejected_setting,
					   rejected_detail);
		return;
	}
	plan->generation = session_plan->generation + 1;
	MemoryContextDelete(session_plan->context);
	session_plan = plan;
	reload_publish(plan->generation, NULL, NULL);
	ereport(DEBUG1,
			(errmsg_internal("pgseccomp: rebuilt the session filters for %d listed roles in %.1f ms",
							 plan->nroles, elapsed_microseconds(&start) / 1000.0)));
}


/* ---- start-up ---- */

static void
define_settings(void)
{
	DefineCustomBoolVariable(ENABLED_NAME,
							 "Turns seccomp confinement of PostgreSQL on or off.",
							 "Off means no filter is ever loaded.",
							 &pgseccomp_enabled, false,
							 PGC_POSTMASTER, 0, check_postmaster_bool, NULL, NULL);

	for (int a = 0; a < NUM_SECCOMP_ACTIONS; a++)
		DefineCustomStringVariable(global_list_names[a],
								   psprintf("Syscalls the global (postmaster) filter gives the action \"%s\".",
											seccomp_action_names[a]),
								   "A comma-separated list of syscall names.",
								   &global_list_values[a], "",
								   PGC_POSTMASTER, 0,
								   global_list_hooks[a], NULL, NULL);
	DefineCustomStringVariable(GLOBAL_DEFAULT_NAME,
							   "Action of the global filter for syscalls no global list names.",
							   "allow, log, error or kill.",
							   &global_default_value, "allow",
							   PGC_POSTMASTER, 0,
							   check_global_default, NULL, NULL);

	for (int a = 0; a < NUM_SECCOMP_ACTIONS; a++)
		DefineCustomStringVariable(session_list_names[a],
								   psprintf("Syscalls the session filter gives the action \"%s\".",
											seccomp_action_names[a]),
								   "A comma-separated list of syscall names; \"*\" uses the global list.",
								   &session_list_values[a], "*",
								   PGC_SIGHUP, 0,
								   session_list_hooks[a], NULL, NULL);
	DefineCustomStringVariable(SESSION_DEFAULT_NAME,
							   "Action of the session filter for syscalls no session list names.",
							   "allow, log, error or kill.",
							   &session_default_value, "allow",
							   PGC_SIGHUP, 0,
							   check_session_default, NULL, NULL);
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
							 PGC_POSTMASTER, 0, check_postmaster_bool, NULL, NULL);
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
	int			nvars;
	struct config_generic **vars = guc_variables(&nvars);

	for (int i = 0; i < nvars; i++)
		if ((vars[i]->flags & GUC_CUSTOM_PLACEHOLDER) &&
			pg_strncasecmp(vars[i]->name, "pgseccomp.", 10) == 0)
			ereport(FATAL,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("unrecognized configuration parameter \"%s\"",
							vars[i]->name),
					 errhint("pgseccomp does not start with a setting it does not know; correct or remove it.")));
	free_guc_variables(vars);
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
	if (!compile_session_plan(session_plan, NULL, errbuf, sizeof(errbuf)))
		ereport(FATAL,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not compile the pgseccomp session filters"),
				 errdetail_internal("%s", errbuf),
				 errhint("Check that the global filter allows the syscalls it takes: pipe2, fcntl, write, read and close.")));

	prev_client_authentication_hook = ClientAuthentication_hook;
	ClientAuthentication_hook = pgseccomp_client_authentication;
	install_role_code_hook();

	session_plan->generation = 1;
	reload_watch_start(session_plan->generation);

	ereport(LOG,
			(errmsg("pgseccomp: loaded the global filter (default action \"%s\", %d syscalls listed)",
					seccomp_action_names[global_layer->default_action],
					global_layer->count)));
}
