/*-------------------------------------------------------------------------
 *
 * syscall_list.h
 *		Actions and syscall lists, as the settings write them.
 *
 * No PostgreSQL header here: syscall_list.c is also built on its own, under
 * sanitizers, by the fuzzing harness in fuzz/.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SYSCALL_LIST_H
#define SYSCALL_LIST_H

#include <stdbool.h>
#include <stddef.h>

/* In increasing precedence, so that the maximum of two actions wins. */
typedef enum SeccompAction
{
	SECCOMP_ACTION_ALLOW = 0,
	SECCOMP_ACTION_LOG,
	SECCOMP_ACTION_ERROR,
	SECCOMP_ACTION_KILL
} SeccompAction;

#define NUM_SECCOMP_ACTIONS 4

extern const char *const seccomp_action_names[NUM_SECCOMP_ACTIONS];

/*
 * A parsed list setting: either '*' (inherit the global list for the same
 * action) or a set of native syscall numbers, sorted and without duplicates.
 * Allocated with malloc so that it can serve as a GUC's "extra".
 */
typedef struct SyscallList
{
	bool		inherit;
	int			count;
	int			syscalls[];
} SyscallList;

extern SyscallList *parse_syscall_list(const char *value, bool allow_inherit,
									   char *errbuf, size_t errbuf_size);
extern bool parse_action(const char *value, SeccompAction *action);
extern int	compare_ints(const void *a, const void *b);

#endif							/* SYSCALL_LIST_H */
