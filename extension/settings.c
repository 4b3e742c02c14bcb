/*-------------------------------------------------------------------------
 *
 * settings.c
 *		Parse syscall lists and actions, and assemble them into layers.
 *
 * Everything here is pure computation: nothing is loaded into the kernel
 * and nothing raises an error, so that the same code serves GUC check
 * hooks, the postmaster's reload (where an ERROR would be fatal) and
 * set_client_filter().  Problems are described in the caller's buffer.
 *
 *-------------------------------------------------------------------------
 */
#include "pgseccomp.h"

#include <ctype.h>
#include <seccomp.h>

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
