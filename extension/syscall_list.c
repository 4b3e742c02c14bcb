/*-------------------------------------------------------------------------
 *
 * syscall_list.c
 *		Parse the values of list and action settings.
 *
 * Plain C with libseccomp and no PostgreSQL dependency, so that the parser
 * that reads every list a DBA or a user writes can be built on its own and
 * run under sanitizers (see fuzz/).  Nothing here raises an error: problems
 * are described in the caller's buffer.
 *
 *-------------------------------------------------------------------------
 */
#include "syscall_list.h"

#include <ctype.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const seccomp_action_names[NUM_SECCOMP_ACTIONS] = {
	"allow", "log", "error", "kill"
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

/*
 * Parse an action name, case-insensitively and without trimming, exactly as
 * PostgreSQL parses the enum settings: a value PostgreSQL would reject
 * (and replace with the default, allow) must not pass here.
 */
bool
parse_action(const char *value, SeccompAction *action)
{
	for (int i = 0; i < NUM_SECCOMP_ACTIONS; i++)
	{
		if (strcasecmp(value, seccomp_action_names[i]) == 0)
		{
			*action = (SeccompAction) i;
			return true;
		}
	}
	return false;
}
