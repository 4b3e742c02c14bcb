/*-------------------------------------------------------------------------
 *
 * layers.c
 *		Assemble the lists of each layer into the layer pgseccomp loads.
 *
 * Pure computation over already-read setting values: nothing here reads a
 * setting, loads a filter or raises an error, so the postmaster can run it
 * while reloading (where an ERROR would be fatal).  Problems are described
 * in the caller's buffer.
 *
 * Go twin: internal/policy/layer.go, build.go and over.go.
 *
 *-------------------------------------------------------------------------
 */
#include "pgseccomp.h"

#include "utils/memutils.h"

typedef struct SourceEntry
{
	int			syscall;
	int			rank;
	int			source;
} SourceEntry;

/* By syscall, then highest rank first. */
static int
compare_entries(const void *a, const void *b)
{
	const SourceEntry *x = a;
	const SourceEntry *y = b;

	if (x->syscall != y->syscall)
		return (x->syscall > y->syscall) - (x->syscall < y->syscall);
	return (y->rank > x->rank) - (y->rank < x->rank);
}

/*
 * Merge the lists of one layer into a FilterLayer, palloc'd in the current
 * memory context.  For each syscall the list of highest rank decides; two
 * lists of that same rank naming it is a conflict, reported in errbuf (and
 * NULL is returned).  A rule whose action equals the default is kept: it is
 * part of what the layer says, and seccomp_filter() shows it.
 */
FilterLayer *
assemble_layer(SeccompAction default_action,
			   const LayerSource *sources, int nsources,
			   char *errbuf, size_t errbuf_size)
{
	SourceEntry *entries;
	FilterLayer *layer;
	int			total = 0;
	int			n = 0;

	for (int s = 0; s < nsources; s++)
		total += sources[s].count;

	entries = palloc(Max(total, 1) * sizeof(SourceEntry));
	for (int s = 0; s < nsources; s++)
	{
		for (int i = 0; i < sources[s].count; i++)
		{
			entries[n].syscall = sources[s].syscalls[i];
			entries[n].rank = sources[s].rank;
			entries[n].source = s;
			n++;
		}
	}
	qsort(entries, total, sizeof(SourceEntry), compare_entries);

	layer = palloc(offsetof(FilterLayer, rules) + Max(total, 1) * sizeof(SyscallRule));
	layer->default_action = default_action;
	layer->count = 0;

	for (int i = 0; i < total;)
	{
		const SourceEntry *winner = &entries[i];
		int			j;

		for (j = i + 1; j < total && entries[j].syscall == winner->syscall; j++)
		{
			const LayerSource *a = &sources[winner->source];
			const LayerSource *b = &sources[entries[j].source];

			if (entries[j].rank == winner->rank && a->action != b->action)
			{
				char	   *name = syscall_name(winner->syscall);

				snprintf(errbuf, errbuf_size,
						 "Syscall \"%s\" is named in both %s and %s.",
						 name, a->setting, b->setting);
				pfree(name);
				pfree(entries);
				pfree(layer);
				return NULL;
			}
		}
		layer->rules[layer->count].syscall = winner->syscall;
		layer->rules[layer->count].action = sources[winner->source].action;
		layer->count++;
		i = j;
	}

	pfree(entries);
	return layer;
}

/* The syscalls a layer gives the action, as a palloc'd array. */
int *
layer_list(const FilterLayer *layer, SeccompAction action, int *count)
{
	int		   *syscalls = palloc(Max(layer->count, 1) * sizeof(int));

	*count = 0;
	for (int i = 0; i < layer->count; i++)
		if (layer->rules[i].action == action)
			syscalls[(*count)++] = layer->rules[i].syscall;
	return syscalls;
}

static int
compare_rule_syscall(const void *key, const void *rule)
{
	int			x = *(const int *) key;
	int			y = ((const SyscallRule *) rule)->syscall;

	return (x > y) - (x < y);
}

/* What a layer does with a syscall: its rule, or else its default. */
SeccompAction
layer_action(const FilterLayer *layer, int syscall)
{
	const SyscallRule *rule;

	rule = bsearch(&syscall, layer->rules, layer->count,
				   sizeof(SyscallRule), compare_rule_syscall);
	return rule ? rule->action : layer->default_action;
}

FilterLayer *
copy_layer(const FilterLayer *layer)
{
	Size		size = offsetof(FilterLayer, rules) +
		Max(layer->count, 1) * sizeof(SyscallRule);
	FilterLayer *copy = palloc(size);

	memcpy(copy, layer, size);
	return copy;
}

bool
layers_equal(const FilterLayer *a, const FilterLayer *b)
{
	return a->default_action == b->default_action && a->count == b->count &&
		memcmp(a->rules, b->rules, a->count * sizeof(SyscallRule)) == 0;
}

/*
 * What a session layer must add on top of the global layer, for its
 * program: the kernel applies the stronger action of the two filters, and
 * equal actions are identical (error is always EACCES), so a syscall whose
 * global action is at least as strong as its session action can be allowed
 * by the session program.  What is left is usually a short deny-list of
 * what the global layer allows and the session does not: a small program
 * that the kernel loads fast and whose allowed syscalls stay constant for
 * its action cache.  The effective action of every syscall is unchanged;
 * seccomp_filter() and parallel workers keep using the layer as configured.
 */
FilterLayer *
layer_over_global(const FilterLayer *session, const FilterLayer *global)
{
	FilterLayer *over;
	int			i = 0,
				j = 0;

	over = palloc(offsetof(FilterLayer, rules) +
				  Max(session->count + global->count, 1) * sizeof(SyscallRule));
	over->default_action = global->default_action >= session->default_action ?
		SECCOMP_ACTION_ALLOW : session->default_action;
	over->count = 0;
	/* Every syscall named in either layer, in order, once. */
	while (i < session->count || j < global->count)
	{
		int			syscall;
		SeccompAction own;

		if (j >= global->count ||
			(i < session->count && session->rules[i].syscall <= global->rules[j].syscall))
			syscall = session->rules[i].syscall;
		else
			syscall = global->rules[j].syscall;
		while (i < session->count && session->rules[i].syscall == syscall)
			i++;
		while (j < global->count && global->rules[j].syscall == syscall)
			j++;
		own = layer_action(session, syscall);
		if (layer_action(global, syscall) >= own)
			own = SECCOMP_ACTION_ALLOW;
		if (own != over->default_action)
		{
			over->rules[over->count].syscall = syscall;
			over->rules[over->count].action = own;
			over->count++;
		}
	}
	return over;
}

/* The global layer: explicit lists only; a syscall in two lists conflicts. */
FilterLayer *
build_global_layer(const LayerSettings *global, char *errbuf, size_t errbuf_size)
{
	LayerSource sources[NUM_SECCOMP_ACTIONS];
	SyscallList *lists[NUM_SECCOMP_ACTIONS] = {0};
	FilterLayer *layer = NULL;
	int			a;

	for (a = 0; a < NUM_SECCOMP_ACTIONS; a++)
	{
		lists[a] = parse_syscall_list(global->lists[a], false,
									  errbuf, errbuf_size);
		if (lists[a] == NULL)
			goto done;
		sources[a].setting = global_list_names[a];
		sources[a].action = (SeccompAction) a;
		sources[a].rank = RANK_EXPLICIT;	/* all global lists rank alike */
		sources[a].count = lists[a]->count;
		sources[a].syscalls = lists[a]->syscalls;
	}
	layer = assemble_layer(global->default_action,
						   sources, NUM_SECCOMP_ACTIONS, errbuf, errbuf_size);
done:
	for (a = 0; a < NUM_SECCOMP_ACTIONS; a++)
		free(lists[a]);
	return layer;
}

/*
 * Fill the four list sources of a session layer.  role_values[a] is a
 * per-role list value or NULL, in which case the session-level list counts.
 * The lists parsed here are malloc'd and returned in parsed[] for freeing.
 */
static bool
session_sources(const FilterLayer *global, const LayerSettings *session,
				const char *const *role_values, const char *rolename,
				LayerSource *sources, SyscallList **parsed,
				char *errbuf, size_t errbuf_size)
{
	for (int a = 0; a < NUM_SECCOMP_ACTIONS; a++)
	{
		bool		per_role = role_values[a] != NULL;
		const char *value = per_role ? role_values[a] : session->lists[a];
		char		detail[ERRBUF_SIZE];
		SyscallList *list;

		list = parsed[a] = parse_syscall_list(value, true, detail, sizeof(detail));
		if (list == NULL)
		{
			char	   *name = per_role ?
				psprintf("%s.%s", role_setting_prefixes[a], rolename) :
				pstrdup(session_list_names[a]);
			char		where[ERRBUF_SIZE];

			/* the word and where it is set, not the whole list */
			setting_location(name, value, where, sizeof(where));
			snprintf(errbuf, errbuf_size, "Invalid value for %s%s. %s",
					 name, where, detail);
			pfree(name);
			return false;
		}

		sources[a].action = (SeccompAction) a;
		if (list->inherit)
		{
			sources[a].setting = global_list_names[a];
			sources[a].rank = RANK_GLOBAL_INHERITED;
			sources[a].syscalls = layer_list(global, (SeccompAction) a,
											 &sources[a].count);
		}
		else
		{
			sources[a].setting = per_role ?
				psprintf("%s.%s", role_setting_prefixes[a], rolename) :
				session_list_names[a];
			sources[a].rank = per_role ? RANK_EXPLICIT : RANK_SESSION;
			sources[a].syscalls = list->syscalls;
			sources[a].count = list->count;
		}
	}
	return true;
}

static FilterLayer *
build_session_layer(const FilterLayer *global, const LayerSettings *session,
					const char *const *role_values, const char *rolename,
					char *errbuf, size_t errbuf_size)
{
	LayerSource sources[NUM_SECCOMP_ACTIONS];
	SyscallList *parsed[NUM_SECCOMP_ACTIONS] = {0};
	SeccompAction default_action = session->default_action;
	FilterLayer *layer = NULL;

	if (role_values[ROLE_DEFAULT_INDEX] != NULL &&
		!parse_action(role_values[ROLE_DEFAULT_INDEX], &default_action))
	{
		snprintf(errbuf, errbuf_size,
				 "Invalid value for %s.%s: \"%s\". Use allow, log, error or kill.",
				 role_setting_prefixes[ROLE_DEFAULT_INDEX], rolename,
				 role_values[ROLE_DEFAULT_INDEX]);
		return NULL;
	}
	if (session_sources(global, session, role_values, rolename,
						sources, parsed, errbuf, errbuf_size))
		layer = assemble_layer(default_action, sources, NUM_SECCOMP_ACTIONS,
							   errbuf, errbuf_size);
	for (int a = 0; a < NUM_SECCOMP_ACTIONS; a++)
		free(parsed[a]);
	return layer;
}

/*
 * Build the session layers for sessions in general and for each listed
 * role, in a memory context of their own.  Returns NULL, with the reason in
 * errbuf, when any setting cannot be applied.
 */
SessionPlan *
build_session_plan(const FilterLayer *global, const LayerSettings *session,
				   const char *session_roles, char *errbuf, size_t errbuf_size)
{
	MemoryContext context;
	MemoryContext oldcontext;
	SessionPlan *plan;
	const char *no_role_values[NUM_SECCOMP_ACTIONS + 1] = {0};
	List	   *roles = NIL;
	HTAB	   *role_settings = NULL;
	ListCell   *lc;
	int			r = 0;

	context = AllocSetContextCreate(TopMemoryContext, "pgseccomp session plan",
									ALLOCSET_SMALL_SIZES);
	oldcontext = MemoryContextSwitchTo(context);

	plan = palloc0(sizeof(SessionPlan));
	plan->context = context;
	plan->default_layer = build_session_layer(global, session,
											  no_role_values, NULL,
											  errbuf, errbuf_size);
	if (plan->default_layer == NULL ||
		!split_session_roles(session_roles, &roles, errbuf, errbuf_size) ||
		(role_settings = read_role_settings(roles, errbuf, errbuf_size)) == NULL)
		goto fail;

	plan->roles = palloc0(Max(list_length(roles), 1) * sizeof(RoleLayer));
	foreach(lc, roles)
	{
		const char *rolename = lfirst(lc);
		const char *const *values = role_settings_of(role_settings, rolename);

		plan->roles[r].rolename = pstrdup(rolename);
		plan->roles[r].layer = build_session_layer(global, session,
												   values, rolename,
												   errbuf, errbuf_size);
		if (plan->roles[r].layer == NULL)
			goto fail;
		r++;
	}
	plan->nroles = r;
	hash_destroy(role_settings);

	MemoryContextSwitchTo(oldcontext);
	return plan;

fail:
	MemoryContextSwitchTo(oldcontext);
	MemoryContextDelete(context);
	return NULL;
}
