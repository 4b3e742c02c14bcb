/*-------------------------------------------------------------------------
 *
 * sqlfuncs.c
 *		seccomp_filter(), set_client_filter() and seccomp_reload_status().
 *
 * Both describe or extend what this process has actually loaded, never
 * today's settings: a reload does not change a running session's filters.
 *
 * Go twin: internal/policy/rows.go (seccomp_filter()) and client.go (set_client_filter()).
 *
 *-------------------------------------------------------------------------
 */
#include "pgseccomp.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"	/* not included by funcapi.h from 19 on */

PG_FUNCTION_INFO_V1(seccomp_filter);
PG_FUNCTION_INFO_V1(set_client_filter);
PG_FUNCTION_INFO_V1(seccomp_reload_status);

#define DEFAULT_ROW_NAME "<default>"

static void
require_enabled(void)
{
	if (!pgseccomp_enabled || global_layer == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pgseccomp is not enabled"),
				 errhint("Set pgseccomp.enabled = on, with pgseccomp in shared_preload_libraries, and restart the server.")));
}

/*
 * The effective action for a syscall (-1: the default) over a stack of
 * layers, and the layer it comes from: the maximum wins, and on a tie the
 * innermost layer is named.
 */
static SeccompAction
effective_action(const FilterLayer *const *layers, const FilterOrigin *origins,
				 int nlayers, int syscall, FilterOrigin *origin)
{
	SeccompAction best = SECCOMP_ACTION_ALLOW;

	*origin = origins[0];
	for (int l = 0; l < nlayers; l++)
	{
		SeccompAction action = syscall < 0 ? layers[l]->default_action :
			layer_action(layers[l], syscall);

		if (action >= best)
		{
			best = action;
			*origin = origins[l];
		}
	}
	return best;
}

static void
emit_row(ReturnSetInfo *rsinfo, const char *name, int syscall,
		 FilterOrigin origin, SeccompAction action, const char *context)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	values[0] = CStringGetTextDatum(name);
	values[1] = Int32GetDatum(syscall);
	values[2] = CStringGetTextDatum(psprintf("%s->%s",
											 filter_origin_names[origin],
											 seccomp_action_names[action]));
	values[3] = CStringGetTextDatum(context);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* One <default> row, then one row per syscall any of the layers names. */
static void
emit_context(ReturnSetInfo *rsinfo, const char *context,
			 const FilterLayer *const *layers, const FilterOrigin *origins,
			 int nlayers)
{
	FilterOrigin origin;
	SeccompAction action;
	int		   *syscalls;
	int			total = 0;
	int			n = 0;

	action = effective_action(layers, origins, nlayers, -1, &origin);
	emit_row(rsinfo, DEFAULT_ROW_NAME, -1, origin, action, context);

	for (int l = 0; l < nlayers; l++)
		total += layers[l]->count;
	syscalls = palloc(Max(total, 1) * sizeof(int));
	for (int l = 0; l < nlayers; l++)
		for (int i = 0; i < layers[l]->count; i++)
			syscalls[n++] = layers[l]->rules[i].syscall;
	qsort(syscalls, n, sizeof(int), compare_ints);

	for (int i = 0; i < n; i++)
	{
		char	   *name;

		if (i > 0 && syscalls[i] == syscalls[i - 1])
			continue;
		action = effective_action(layers, origins, nlayers, syscalls[i], &origin);
		name = syscall_name(syscalls[i]);
		emit_row(rsinfo, name, syscalls[i], origin, action, context);
		pfree(name);
	}
	pfree(syscalls);
}

/*
 * seccomp_filter(): the filters loaded, as rows (syscall, syscallnum,
 * filter_action, context).  Context "global" is the postmaster's filter,
 * which every other process inherits; "session" is this backend with all
 * its layers merged.
 */
Datum
seccomp_filter(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const FilterLayer *layers[NUM_FILTER_ORIGINS];
	FilterOrigin origins[NUM_FILTER_ORIGINS];
	int			nlayers = 0;

	require_enabled();
	InitMaterializedSRF(fcinfo, 0);

	layers[0] = global_layer;
	origins[0] = FILTER_ORIGIN_GLOBAL;
	emit_context(rsinfo, "global", layers, origins, 1);

	layers[nlayers] = global_layer;
	origins[nlayers++] = FILTER_ORIGIN_GLOBAL;
	if (session_layer != NULL)
	{
		layers[nlayers] = session_layer;
		origins[nlayers++] = FILTER_ORIGIN_SESSION;
	}
	if (client_layer != NULL)
	{
		layers[nlayers] = client_layer;
		origins[nlayers++] = FILTER_ORIGIN_CLIENT;
	}
	emit_context(rsinfo, "session", layers, origins, nlayers);

	return (Datum) 0;
}

/*
 * One list argument of set_client_filter(): NULL takes this session's list,
 * '*' the global list, anything else is explicit and beats both.
 */
static void
client_source(FunctionCallInfo fcinfo, int argno, SeccompAction action,
			  LayerSource *source)
{
	const char *argname = psprintf("%s_list", seccomp_action_names[action]);
	char		errbuf[512];
	char	   *value;
	SyscallList *list;

	source->action = action;
	if (PG_ARGISNULL(argno))
	{
		source->setting = psprintf("this session's %s list",
								   seccomp_action_names[action]);
		source->rank = RANK_SESSION;
		source->syscalls = layer_list(session_layer, action, &source->count);
		return;
	}

	value = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	list = parse_syscall_list(value, true, errbuf, sizeof(errbuf));
	if (list == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for argument %s of set_client_filter()",
						argname),
				 errdetail_internal("%s", errbuf)));

	if (list->inherit)
	{
		source->setting = psprintf("the global %s list",
								   seccomp_action_names[action]);
		source->rank = RANK_GLOBAL_INHERITED;
		source->syscalls = layer_list(global_layer, action, &source->count);
	}
	else
	{
		int		   *syscalls = palloc(Max(list->count, 1) * sizeof(int));

		memcpy(syscalls, list->syscalls, list->count * sizeof(int));
		source->setting = psprintf("argument %s", argname);
		source->rank = RANK_EXPLICIT;
		source->syscalls = syscalls;
		source->count = list->count;
	}
	free(list);				/* malloc'd by the parser */
}

/*
 * set_client_filter(default_action, allow_list, log_list, error_list,
 * kill_list): load one more, tighter layer into this session, once.
 */
Datum
set_client_filter(PG_FUNCTION_ARGS)
{
	SeccompAction default_action;
	LayerSource sources[NUM_SECCOMP_ACTIONS];
	FilterLayer *layer;
	char		errbuf[512];

	require_enabled();
	if (session_layer == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("set_client_filter() can be called only in a client session")));
	if (client_layer != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the client filter of this session is already loaded"),
				 errdetail("set_client_filter() can be called only once per session."),
				 errhint("Start a new session to load a different client filter.")));

	if (PG_ARGISNULL(0))
		default_action = session_layer->default_action;
	else
	{
		char	   *value = text_to_cstring(PG_GETARG_TEXT_PP(0));

		if (!parse_action(value, &default_action))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value for argument default_action of set_client_filter(): \"%s\"",
							value),
					 errhint("Use allow, log, error or kill, or NULL for this session's default action.")));
	}

	for (int a = 0; a < NUM_SECCOMP_ACTIONS; a++)
		client_source(fcinfo, a + 1, (SeccompAction) a, &sources[a]);

	layer = assemble_layer(default_action, sources, NUM_SECCOMP_ACTIONS,
						   errbuf, sizeof(errbuf));
	if (layer == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("conflicting lists in set_client_filter()"),
				 errdetail_internal("%s", errbuf),
				 errhint("Name each syscall in at most one list argument.")));

	load_client_layer(layer);
	PG_RETURN_TEXT_P(cstring_to_text("OK"));
}

/*
 * seccomp_reload_status(): the session plan in force, since when, and the
 * last reload pgseccomp rejected, from shared memory (reload.c).
 */
Datum
seccomp_reload_status(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	ReloadStatus status;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	require_enabled();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (!reload_read_status(&status))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pgseccomp has no shared memory in this process")));

	values[0] = Int64GetDatum((int64) status.generation);
	values[1] = TimestampTzGetDatum(status.plan_since);
	values[2] = TimestampTzGetDatum(status.rejected_at);
	values[3] = CStringGetTextDatum(status.rejected_setting);
	values[4] = CStringGetTextDatum(status.rejected_detail);
	if (status.rejected_at == 0)
		nulls[2] = nulls[3] = nulls[4] = true;
	else if (status.rejected_setting[0] == '\0')
		nulls[3] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
