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
 * Go twin: internal/policy/list.go and action.go; the did-you-mean is internal/syscalls/closest.go.
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

/* Above every syscall number of the architectures pgseccomp runs on. */
#define MAX_SYSCALL_NUMBER 1024

/* qsort comparator for ints */
int
compare_ints(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	return (x > y) - (x < y);
}

/*
 * Levenshtein distance between a and b (each at most MAX_SYSCALL_NAME
 * bytes), comparing bytes.
 */
static int
edit_distance(const char *a, const char *b)
{
	int			row[MAX_SYSCALL_NAME + 1];
	size_t		alen = strlen(a);
	size_t		blen = strlen(b);

	if (alen > MAX_SYSCALL_NAME || blen > MAX_SYSCALL_NAME)
		return MAX_SYSCALL_NAME + 1;
	for (size_t j = 0; j <= blen; j++)
		row[j] = (int) j;
	for (size_t i = 1; i <= alen; i++)
	{
		int			diagonal = row[0];

		row[0] = (int) i;
		for (size_t j = 1; j <= blen; j++)
		{
			int			above = row[j];
			int			best = diagonal + (a[i - 1] != b[j - 1]);

			if (above + 1 < best)
				best = above + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diagonal = above;
		}
	}
	return row[blen];
}

/*
 * The syscall name libseccomp knows on this architecture that is closest
 * to word (lower-cased) by edit distance, the first in byte order on a
 * tie, copied into buf; false when none is within max(2, length / 3)
 * edits and fewer edits than the word has bytes.  It scans every syscall number, so call it only on failure.  The
 * tool's model does the same (internal/syscalls, Arch.Closest).
 */
static bool
closest_syscall_name(const char *word, char *buf, size_t buf_size)
{
	char		lower[MAX_SYSCALL_NAME + 1];
	size_t		len = strlen(word);
	int			limit;
	int			best = MAX_SYSCALL_NAME + 1;

	if (len > MAX_SYSCALL_NAME)
		return false;
	for (size_t i = 0; i <= len; i++)
		lower[i] = (word[i] >= 'A' && word[i] <= 'Z') ? word[i] - 'A' + 'a' : word[i];
	limit = len / 3 > 2 ? (int) (len / 3) : 2;
	for (int nr = 0; nr < MAX_SYSCALL_NUMBER; nr++)
	{
		char	   *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		int			distance;

		if (name == NULL)
			continue;
		distance = edit_distance(lower, name);
		if (distance <= limit &&
			(distance < best || (distance == best && strcmp(name, buf) < 0)) &&
			strlen(name) < buf_size)
		{
			best = distance;
			strcpy(buf, name);
		}
		free(name);
	}
	return best <= limit && best < (int) len;
}

/* The native architecture, as the tool names it (internal/syscalls). */
static const char *
native_arch_name(void)
{
	switch (seccomp_arch_native())
	{
		case SCMP_ARCH_X86_64:
			return "x86_64";
		case SCMP_ARCH_AARCH64:
			return "aarch64";
		default:
			return "native";
	}
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
	for (int word = 1;; word++)
	{
		const char *start;
		const char *end;
		const char *next;
		char		name[MAX_SYSCALL_NAME + 1];
		char		closest[MAX_SYSCALL_NAME + 1];
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
					 "The list has an empty entry (word %d): a comma at its start or end, or two commas in a row.",
					 word);
			goto fail;
		}
		if (len == 1 && *start == '*')
		{
			if (!allow_inherit)
				snprintf(errbuf, errbuf_size,
						 "\"*\" (use the global list) is valid only in session lists.");
			else if (maxcount > 1)
				snprintf(errbuf, errbuf_size,
						 "\"*\" must be the whole list, not one of its entries (word %d).",
						 word);
			else
			{
				list->inherit = true;
				return list;
			}
			goto fail;
		}
		if (len > MAX_SYSCALL_NAME)
		{
			snprintf(errbuf, errbuf_size,
					 "Unknown syscall \"%.*s...\" (word %d of the list).",
					 MAX_SYSCALL_NAME, start, word);
			goto fail;
		}
		memcpy(name, start, len);
		name[len] = '\0';

		syscall = seccomp_syscall_resolve_name(name);
		if (syscall == __NR_SCMP_ERROR)
		{
			if (strpbrk(name, " \t\n"))
				snprintf(errbuf, errbuf_size,
						 "Unknown syscall \"%s\" (word %d of the list): separate syscall names with commas.",
						 name, word);
			else if (closest_syscall_name(name, closest, sizeof(closest)))
				snprintf(errbuf, errbuf_size,
						 "Unknown syscall \"%s\" (word %d of the list). Did you mean \"%s\"?",
						 name, word, closest);
			else
				snprintf(errbuf, errbuf_size,
						 "Unknown syscall \"%s\" (word %d of the list).", name, word);
			goto fail;
		}
		if (syscall < 0)
		{
			/* libseccomp knows it, but only on other architectures */
			snprintf(errbuf, errbuf_size,
					 "Syscall \"%s\" (word %d of the list) does not exist on this architecture (%s).",
					 name, word, native_arch_name());
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
