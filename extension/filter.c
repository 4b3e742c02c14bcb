/*-------------------------------------------------------------------------
 *
 * filter.c
 *		Turn a layer into a seccomp filter and load it into the kernel.
 *
 * Every filter pgseccomp loads is built the same way, with libseccomp:
 *	- no_new_privs is set (needed to load a filter without CAP_SYS_ADMIN,
 *	  and it keeps setuid programs from shedding the filter);
 *	- the log flag is set, so that "error" actions are audited, not silent;
 *	- syscalls of any architecture but the native one kill the process, so
 *	  that a secondary ABI (i386, x32) cannot get around the lists;
 *	- "kill" kills the whole process, never just the thread;
 *	- all threads of the process get the filter (TSYNC).
 *
 *-------------------------------------------------------------------------
 */
#include "pgseccomp.h"

#include <errno.h>
#include <seccomp.h>

#include "lib/stringinfo.h"

/* The syscalls that loading a filter makes; see denied_loader_syscalls(). */
static const char *const loader_syscalls[] = {"prctl", "seccomp"};

static uint32
kernel_action(SeccompAction action)
{
	switch (action)
	{
		case SECCOMP_ACTION_ALLOW:
			return SCMP_ACT_ALLOW;
		case SECCOMP_ACTION_LOG:
			return SCMP_ACT_LOG;
		case SECCOMP_ACTION_ERROR:
			return SCMP_ACT_ERRNO(EACCES);
		case SECCOMP_ACTION_KILL:
			return SCMP_ACT_KILL_PROCESS;
	}
	return SCMP_ACT_KILL_PROCESS;	/* not reached */
}

/*
 * Build the layer's filter and load it.  Returns 0, or a negative errno
 * with *failed_call naming the libseccomp call that failed.
 */
int
load_layer(const FilterLayer *layer, const char **failed_call)
{
	scmp_filter_ctx ctx;
	int			rc;

	*failed_call = "seccomp_init";
	ctx = seccomp_init(kernel_action(layer->default_action));
	if (ctx == NULL)
		return -ENOMEM;

	*failed_call = "seccomp_attr_set";
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) < 0 ||
		(rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1)) < 0 ||
		(rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0 ||
		(rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
							   SCMP_ACT_KILL_PROCESS)) < 0 ||
	/* a binary tree of syscall numbers keeps long lists cheap */
		(rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
		goto done;

	*failed_call = "seccomp_rule_add";
	for (int i = 0; i < layer->count; i++)
	{
		/* libseccomp refuses a rule that repeats the default; it is moot */
		if (layer->rules[i].action == layer->default_action)
			continue;
		rc = seccomp_rule_add(ctx, kernel_action(layer->rules[i].action),
							  layer->rules[i].syscall, 0);
		if (rc < 0)
			goto done;
	}

	*failed_call = "seccomp_load";
	rc = seccomp_load(ctx);

done:
	seccomp_release(ctx);
	return rc;
}

/* The native name of a syscall number, palloc'd. */
char *
syscall_name(int syscall)
{
	char	   *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, syscall);
	char	   *result;

	if (name == NULL)
		return psprintf("syscall %d", syscall);
	result = pstrdup(name);
	free(name);
	return result;
}

/*
 * Loading one more filter needs prctl (no_new_privs) and seccomp.  Returns
 * the comma-separated names of those the given (already loaded) layers deny,
 * or NULL when loading can proceed.  Checked before loading, because a
 * denied prctl under a "kill" rule would kill the process.
 */
char *
denied_loader_syscalls(const FilterLayer *const *layers, int nlayers)
{
	StringInfoData denied;

	initStringInfo(&denied);
	for (int i = 0; i < lengthof(loader_syscalls); i++)
	{
		int			syscall = seccomp_syscall_resolve_name(loader_syscalls[i]);
		SeccompAction effective = SECCOMP_ACTION_ALLOW;

		for (int l = 0; l < nlayers; l++)
			if (layers[l] != NULL)
				effective = Max(effective, layer_action(layers[l], syscall));
		if (effective >= SECCOMP_ACTION_ERROR)
			appendStringInfo(&denied, "%s%s", denied.len ? ", " : "",
							 loader_syscalls[i]);
	}
	if (denied.len == 0)
	{
		pfree(denied.data);
		return NULL;
	}
	return denied.data;
}
