/*-------------------------------------------------------------------------
 *
 * harness.c
 *		Fuzz the parser of every list and action a DBA or a user writes
 *		(../syscall_list.c) and check what it returns.
 *
 * Built two ways (see Makefile):
 *	- with clang -fsanitize=fuzzer,address,undefined: libFuzzer calls
 *	  LLVMFuzzerTestOneInput;
 *	- with -DHARNESS_MAIN (gcc -fsanitize=address,undefined): a program that
 *	  runs every file of the directories and files it is given ("-", or no
 *	  argument at all, reads stdin).
 *
 * Each input, cut at its first NUL (settings are C strings), goes through
 * parse_syscall_list (allow_inherit false and true, with error buffers of
 * many sizes, each malloc'd to exactly that size so that ASAN catches any
 * write past it) and parse_action.  The results are compared with an
 * independent reading of the input: split at commas, trim, resolve each
 * name with libseccomp.  Any violation prints what went wrong and aborts.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE				/* asprintf */

#include "syscall_list.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* What a buffer holds before the parser writes into it. */
#define FILL_BYTE 0x7f

/* A reference buffer that no message can fill. */
#define FULL_ERRBUF_SIZE 4096

/* Tiny sizes, the boundary of one character, and ordinary ones. */
static const size_t errbuf_sizes[] = {1, 2, 3, 7, 16, 40, 64, 100, 256};

/* The input being checked, for the report of a violation. */
static const char *current_input;

static void
violation(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "harness: invariant violated: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (current_input == NULL)
	{
		fputc('\n', stderr);
		abort();
	}
	fprintf(stderr, "\ninput (%zu bytes): \"", strlen(current_input));
	for (const char *p = current_input; *p; p++)
	{
		unsigned char c = (unsigned char) *p;

		if (c == '"' || c == '\\')
			fprintf(stderr, "\\%c", c);
		else if (isprint(c))
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fprintf(stderr, "\"\n");
	abort();
}

/* [*start, *end) is s[from, to) without surrounding whitespace. */
static void
trim(const char *s, size_t from, size_t to, size_t *start, size_t *end)
{
	while (from < to && isspace((unsigned char) s[from]))
		from++;
	while (to > from && isspace((unsigned char) s[to - 1]))
		to--;
	*start = from;
	*end = to;
}

static bool
is_star(const char *s)
{
	size_t		start,
				end;

	trim(s, 0, strlen(s), &start, &end);
	return end - start == 1 && s[start] == '*';
}

static bool
is_blank(const char *s)
{
	size_t		start,
				end;

	trim(s, 0, strlen(s), &start, &end);
	return start == end;
}

/*
 * The independent reading of a list: every comma-separated entry, trimmed,
 * must be a syscall of this architecture.  Returns false at the first entry
 * that is not; else fills nums (room for every entry) and *count.
 */
static bool
resolve_entries(const char *s, int *nums, int *count)
{
	size_t		len = strlen(s);
	size_t		from = 0;

	*count = 0;
	for (;;)
	{
		const char *comma = memchr(s + from, ',', len - from);
		size_t		to = comma ? (size_t) (comma - s) : len;
		size_t		start,
					end;
		char	   *name;
		int			num;

		trim(s, from, to, &start, &end);
		name = strndup(s + start, end - start);
		if (name == NULL)
			violation("out of memory in the harness");
		num = seccomp_syscall_resolve_name(name);
		free(name);
		if (num < 0)			/* unknown, or only on other architectures */
			return false;
		nums[(*count)++] = num;
		if (comma == NULL)
			return true;
		from = to + 1;
	}
}

static bool
contains(const int *nums, int count, int num)
{
	for (int i = 0; i < count; i++)
		if (nums[i] == num)
			return true;
	return false;
}

static size_t
count_entries(const char *s)
{
	size_t		n = 1;

	for (; *s; s++)
		if (*s == ',')
			n++;
	return n;
}

/* A successful parse: check the list against the independent reading. */
static void
check_list(const char *input, bool allow_inherit, const SyscallList *list)
{
	int		   *expected;
	int			expected_count;

	if (list->count < 0 || (size_t) list->count > count_entries(input))
		violation("allow_inherit=%d: count %d for %zu entries",
				  allow_inherit, list->count, count_entries(input));
	if (list->inherit)
	{
		if (!allow_inherit)
			violation("inherit set although allow_inherit is false");
		if (!is_star(input))
			violation("inherit set, but the trimmed input is not \"*\"");
		if (list->count != 0)
			violation("inherit set with %d syscalls", list->count);
		return;
	}
	if (is_star(input))
		violation("allow_inherit=%d: \"*\" parsed as a list of %d syscalls",
				  allow_inherit, list->count);

	for (int i = 0; i < list->count; i++)
	{
		int			num = list->syscalls[i];
		char	   *name;

		if (i > 0 && list->syscalls[i - 1] >= num)
			violation("allow_inherit=%d: not sorted and unique at %d: %d then %d",
					  allow_inherit, i, list->syscalls[i - 1], num);
		name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, num);
		if (name == NULL)
			violation("allow_inherit=%d: syscall number %d has no name on this architecture",
					  allow_inherit, num);
		if (seccomp_syscall_resolve_name(name) != num)
			violation("allow_inherit=%d: syscall %d is named \"%s\", which resolves to %d",
					  allow_inherit, num, name, seccomp_syscall_resolve_name(name));
		free(name);
	}

	if (is_blank(input))
	{
		if (list->count != 0)
			violation("a blank list parsed as %d syscalls", list->count);
		return;
	}
	expected = malloc(count_entries(input) * sizeof(int));
	if (expected == NULL)
		violation("out of memory in the harness");
	if (!resolve_entries(input, expected, &expected_count))
		violation("allow_inherit=%d: accepted, but an entry is not a syscall of this architecture",
				  allow_inherit);
	/* The same set: every parsed number was named, every name was kept. */
	for (int i = 0; i < list->count; i++)
		if (!contains(expected, expected_count, list->syscalls[i]))
			violation("allow_inherit=%d: syscall %d is in the list but not in the input",
					  allow_inherit, list->syscalls[i]);
	for (int i = 0; i < expected_count; i++)
		if (!contains(list->syscalls, list->count, expected[i]))
			violation("allow_inherit=%d: syscall %d is named in the input but missing from the list",
					  allow_inherit, expected[i]);
	free(expected);
}

/* Should the parser accept input?  Decided without the parser. */
static bool
expect_valid(const char *input, bool allow_inherit)
{
	int		   *nums;
	int			count;
	bool		ok;

	if (is_blank(input))
		return true;
	if (is_star(input))
		return allow_inherit;
	nums = malloc(count_entries(input) * sizeof(int));
	if (nums == NULL)
		violation("out of memory in the harness");
	ok = resolve_entries(input, nums, &count);
	free(nums);
	return ok;
}

/*
 * Parse with an error buffer of exactly errbuf_size bytes.  Returns the
 * list; on failure copies the message into message (FULL_ERRBUF_SIZE).
 */
static SyscallList *
parse_with(const char *input, bool allow_inherit, size_t errbuf_size,
		   char *message)
{
	char	   *errbuf = malloc(errbuf_size);
	SyscallList *list;
	size_t		len;

	if (errbuf == NULL)
		violation("out of memory in the harness");
	memset(errbuf, FILL_BYTE, errbuf_size);
	list = parse_syscall_list(input, allow_inherit, errbuf, errbuf_size);
	if (list != NULL)
	{
		/* Never both: a success writes no message. */
		for (size_t i = 0; i < errbuf_size; i++)
			if ((unsigned char) errbuf[i] != FILL_BYTE)
				violation("allow_inherit=%d, errbuf_size %zu: success, yet errbuf[%zu] was written",
						  allow_inherit, errbuf_size, i);
		free(errbuf);
		return list;
	}
	len = strnlen(errbuf, errbuf_size);
	if (len == errbuf_size)
		violation("allow_inherit=%d, errbuf_size %zu: failed with no NUL in errbuf",
				  allow_inherit, errbuf_size);
	if (len == 0 && errbuf_size > 1)
		violation("allow_inherit=%d, errbuf_size %zu: failed with an empty message",
				  allow_inherit, errbuf_size);
	memcpy(message, errbuf, len + 1);
	free(errbuf);
	return NULL;
}

static void
check_lists(const char *input, bool allow_inherit)
{
	char		full[FULL_ERRBUF_SIZE];
	char		part[FULL_ERRBUF_SIZE];
	SyscallList *list = parse_with(input, allow_inherit, sizeof(full), full);
	bool		valid = expect_valid(input, allow_inherit);

	if (list != NULL)
	{
		if (!valid)
			violation("allow_inherit=%d: accepted an invalid list", allow_inherit);
		check_list(input, allow_inherit, list);
		free(list);
	}
	else if (valid)
		violation("allow_inherit=%d: rejected a valid list: %s", allow_inherit, full);
	else if (strlen(full) + 1 >= sizeof(full))
		violation("allow_inherit=%d: a message of %zu bytes or more", allow_inherit,
				  sizeof(full) - 1);

	/* Smaller buffers: the same outcome, the message cut short. */
	for (size_t i = 0; i < sizeof(errbuf_sizes) / sizeof(errbuf_sizes[0]); i++)
	{
		size_t		size = errbuf_sizes[i];
		SyscallList *again = parse_with(input, allow_inherit, size, part);

		if ((again != NULL) != (list != NULL))
			violation("allow_inherit=%d, errbuf_size %zu: a different outcome than with %zu bytes",
					  allow_inherit, size, sizeof(full));
		if (again == NULL && strncmp(part, full, size - 1) != 0)
			violation("allow_inherit=%d, errbuf_size %zu: message \"%s\" is not the start of \"%s\"",
					  allow_inherit, size, part, full);
		free(again);
	}
}

static void
check_action(const char *input)
{
	const SeccompAction unset = (SeccompAction) 12345;
	SeccompAction action = unset;
	int			expected = -1;

	/* An action name, any case, nothing around it: as PostgreSQL's enums. */
	for (int i = 0; i < NUM_SECCOMP_ACTIONS; i++)
	{
		const char *name = seccomp_action_names[i];
		bool		same = strlen(input) == strlen(name);

		for (size_t j = 0; same && name[j]; j++)
			same = tolower((unsigned char) input[j]) == name[j];
		if (same)
			expected = i;
	}

	if (parse_action(input, &action))
	{
		if (expected < 0)
			violation("parse_action accepted a word that is no action");
		if ((int) action != expected)
			violation("parse_action returned action %d, want %d (%s)",
					  (int) action, expected, seccomp_action_names[expected]);
	}
	else
	{
		if (expected >= 0)
			violation("parse_action rejected \"%s\"", seccomp_action_names[expected]);
		if (action != unset)
			violation("parse_action failed but set the action to %d", (int) action);
	}
}

static void
check_input(const uint8_t *data, size_t size)
{
	char	   *input = malloc(size + 1);

	if (input == NULL)
		violation("out of memory in the harness");
	memcpy(input, data, size);
	input[size] = '\0';			/* and cut at the first NUL, if any */
	current_input = input;

	check_lists(input, false);
	check_lists(input, true);
	check_action(input);

	current_input = NULL;
	free(input);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_input(data, size);
	return 0;
}

#ifdef HARNESS_MAIN

static int	inputs_run;

static void
run_stream(FILE *f, const char *what)
{
	size_t		cap = 4096,
				len = 0,
				n;
	uint8_t    *buf = malloc(cap);

	if (buf == NULL)
		violation("out of memory in the harness");
	while ((n = fread(buf + len, 1, cap - len, f)) > 0)
	{
		len += n;
		if (len == cap && (buf = realloc(buf, cap *= 2)) == NULL)
			violation("out of memory in the harness");
	}
	if (ferror(f))
	{
		fprintf(stderr, "harness: cannot read %s: %s\n", what, strerror(errno));
		exit(2);
	}
	check_input(buf, len);
	inputs_run++;
	free(buf);
}

static void
run_file(const char *path)
{
	FILE	   *f = fopen(path, "rb");

	if (f == NULL)
	{
		fprintf(stderr, "harness: cannot open %s: %s\n", path, strerror(errno));
		exit(2);
	}
	run_stream(f, path);
	fclose(f);
}

/* Every regular file of a directory (not recursive), or a file, or stdin. */
static void
run_path(const char *path)
{
	struct stat st;
	DIR		   *dir;
	struct dirent *de;

	if (strcmp(path, "-") == 0)
	{
		run_stream(stdin, "stdin");
		return;
	}
	if (stat(path, &st) != 0)
	{
		fprintf(stderr, "harness: cannot read %s: %s\n", path, strerror(errno));
		exit(2);
	}
	if (!S_ISDIR(st.st_mode))
	{
		run_file(path);
		return;
	}
	if ((dir = opendir(path)) == NULL)
	{
		fprintf(stderr, "harness: cannot open directory %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while ((de = readdir(dir)) != NULL)
	{
		char	   *file;

		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&file, "%s/%s", path, de->d_name) < 0)
			violation("out of memory in the harness");
		if (stat(file, &st) == 0 && S_ISREG(st.st_mode))
			run_file(file);
		free(file);
	}
	closedir(dir);
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		run_path("-");
	for (int i = 1; i < argc; i++)
		run_path(argv[i]);
	printf("harness: %d inputs, every invariant held\n", inputs_run);
	return 0;
}

#endif							/* HARNESS_MAIN */
