/*-------------------------------------------------------------------------
 *
 * workers.c
 *		Give parallel workers the filters of the session they work for.
 *
 * A parallel worker is forked by the postmaster, so it inherits only the
 * global filter, and it never authenticates, so the session hook does not
 * run.  What it does get from its leader is the leader's settings, through
 * PostgreSQL's own serialization of settings (RestoreGUCState), before it
 * runs any of the leader's query.  So the leader publishes the layers it has
 * loaded above the global one in a hidden setting, and the setting's assign
 * hook, in a worker that is starting, loads the same layers.
 *
 * Nobody else can change the setting: it is superuser-only, rejected in
 * configuration files and connection options, and set by the leader at the
 * highest priority (PGC_S_OVERRIDE), which a later SET, RESET, DISCARD or
 * transaction abort cannot undo.  It is published before the layer is
 * loaded, so that if anything fails in between, workers are stricter than
 * their leader, never looser.
 *
 * The value is the layers, innermost last, separated by "/": each is its
 * default action followed by " syscall:action" for each rule, with actions
 * as digits (0 allow, 1 log, 2 error, 3 kill), e.g. "2 0:0 1:0/0 56:2".
 *
 * Go twin: none; the model has no parallel workers (a worker gets its leader's rows).
 *
 *-------------------------------------------------------------------------
 */
#include "pgseccomp.h"

#include "access/parallel.h"
#include "lib/stringinfo.h"
#include "utils/memutils.h"

#define MAX_WORKER_LAYERS 2		/* session, client */
#define MAX_SYSCALL_NUMBER 65535

/* A decoded value: the GUC's "extra", one malloc'd block. */
typedef struct WorkerFilters
{
	int			nlayers;
	FilterLayer *layers[MAX_WORKER_LAYERS]; /* point into this block */
} WorkerFilters;

char	   *worker_filters_value;	/* the setting; read, never written */
static bool publishing = false; /* our own SetConfigOption is running */
static bool worker_filters_loaded = false;

static void
encode_layer(StringInfo buf, const FilterLayer *layer)
{
	if (buf->len > 0)
		appendStringInfoChar(buf, '/');
	appendStringInfo(buf, "%d", (int) layer->default_action);
	for (int i = 0; i < layer->count; i++)
		appendStringInfo(buf, " %d:%d", layer->rules[i].syscall,
						 (int) layer->rules[i].action);
}

/* Parse a digit action at *p; advance past it. */
static bool
decode_action(const char **p, SeccompAction *action)
{
	if (**p < '0' || **p >= '0' + NUM_SECCOMP_ACTIONS)
		return false;
	*action = (SeccompAction) (**p - '0');
	(*p)++;
	return true;
}

/* The decoded value, malloc'd, or NULL if it is malformed. */
static WorkerFilters *
decode_worker_filters(const char *value)
{
	int			nlayers = *value ? 1 : 0;
	int			nrules[MAX_WORKER_LAYERS] = {0};
	Size		size = MAXALIGN(sizeof(WorkerFilters));
	WorkerFilters *filters;
	char	   *next;
	const char *p;

	/* Count, to allocate one block. */
	for (p = value; *p; p++)
	{
		if (*p == '/' && ++nlayers > MAX_WORKER_LAYERS)
			return NULL;
		if (*p == ':')
			nrules[nlayers - 1]++;
	}
	for (int l = 0; l < nlayers; l++)
		size += MAXALIGN(offsetof(FilterLayer, rules) +
						 Max(nrules[l], 1) * sizeof(SyscallRule));
	filters = calloc(1, size);
	if (filters == NULL)
		return NULL;
	filters->nlayers = nlayers;

	next = (char *) filters + MAXALIGN(sizeof(WorkerFilters));
	p = value;
	for (int l = 0; l < nlayers; l++)
	{
		FilterLayer *layer = (FilterLayer *) next;

		next += MAXALIGN(offsetof(FilterLayer, rules) +
						 Max(nrules[l], 1) * sizeof(SyscallRule));
		filters->layers[l] = layer;
		if (l > 0 && *p++ != '/')
			goto malformed;
		if (!decode_action(&p, &layer->default_action))
			goto malformed;
		while (*p == ' ')
		{
			char	   *end;
			long		syscall;
			SyscallRule *rule = &layer->rules[layer->count];

			p++;
			errno = 0;
			syscall = strtol(p, &end, 10);
			if (end == p || *end != ':' || errno != 0 ||
				syscall < 0 || syscall > MAX_SYSCALL_NUMBER ||
				layer->count >= nrules[l] ||
				(layer->count > 0 && syscall <= rule[-1].syscall))
				goto malformed;
			p = end + 1;
			rule->syscall = (int) syscall;
			if (!decode_action(&p, &rule->action))
				goto malformed;
			layer->count++;
		}
	}
	if (*p != '\0')
		goto malformed;
	return filters;

malformed:
	free(filters);
	return NULL;
}

/*
 * Check hook: only the boot value, the leader's own publishing and a
 * starting parallel worker may set the value.
 */
bool
check_worker_filters(char **newval, void **extra, GucSource source)
{
	WorkerFilters *filters;

	if (source != PGC_S_DEFAULT &&
		!(source == PGC_S_OVERRIDE && (publishing || InitializingParallelWorker)))
	{
		GUC_check_errcode(ERRCODE_CANT_CHANGE_RUNTIME_PARAM);
		GUC_check_errmsg("parameter \"%s\" cannot be set", WORKER_FILTERS_NAME);
		GUC_check_errdetail("pgseccomp sets it to give a session's filters to the session's parallel workers.");
		return false;
	}
	/* Only a worker loads the value; the leader made it itself. */
	if (!InitializingParallelWorker)
		return true;
	filters = decode_worker_filters(*newval);
	if (filters == NULL)
	{
		GUC_check_errdetail("The value is malformed.");
		return false;
	}
	*extra = filters;
	return true;
}

/*
 * Assign hook: in a parallel worker that is starting, load the leader's
 * layers, or die.  Anywhere else, nothing to do.
 */
void
assign_worker_filters(const char *newval, void *extra)
{
	const WorkerFilters *filters = extra;
	const FilterLayer *loaded[1 + MAX_WORKER_LAYERS] = {global_layer};
	FilterLayer *copies[MAX_WORKER_LAYERS] = {0};
	MemoryContext oldcontext;

	if (!InitializingParallelWorker || worker_filters_loaded ||
		filters == NULL || filters->nlayers == 0)
		return;

	/* Copy first: once loaded, nothing may fail before it is recorded. */
	oldcontext = MemoryContextSwitchTo(TopMemoryContext);
	for (int l = 0; l < filters->nlayers; l++)
		copies[l] = copy_layer(filters->layers[l]);
	MemoryContextSwitchTo(oldcontext);

	for (int l = 0; l < filters->nlayers; l++)
	{
		const char *failed_call;
		const char *denied = denied_loader_syscall(loaded, l + 1);
		int			rc;

		if (denied != NULL)
			ereport(FATAL,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("could not load the pgseccomp filters of the leader in a parallel worker"),
					 errdetail("The filters already loaded deny the %s syscall.", denied)));
		rc = load_layer(filters->layers[l], false, &failed_call);
		if (rc < 0)
			ereport(FATAL,
					(errcode(ERRCODE_SYSTEM_ERROR),
					 errmsg("could not load the pgseccomp filters of the leader in a parallel worker: %s failed: %s",
							failed_call, strerror(-rc))));
		loaded[l + 1] = filters->layers[l];
	}
	worker_filters_loaded = true;
	session_layer = copies[0];
	client_layer = copies[1];
}

/*
 * The value that gives a worker these layers (client may be NULL),
 * palloc'd.
 */
char *
encode_worker_filters(const FilterLayer *session, const FilterLayer *client)
{
	StringInfoData value;

	initStringInfo(&value);
	if (session != NULL)
		encode_layer(&value, session);
	if (client != NULL)
		encode_layer(&value, client);
	return value.data;
}

/*
 * In the leader: publish the value of encode_worker_filters() for the
 * layers this session has, or is about to have, above the global one.
 */
void
publish_worker_filters(const char *value)
{
	publishing = true;
	PG_TRY();
	{
		SetConfigOption(WORKER_FILTERS_NAME, value, PGC_SUSET, PGC_S_OVERRIDE);
	}
	PG_FINALLY();
	{
		publishing = false;
	}
	PG_END_TRY();
}
