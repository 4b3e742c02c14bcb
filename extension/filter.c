/*-------------------------------------------------------------------------
 *
 * filter.c
 *		Turn a layer into a seccomp filter and load it into the kernel.
 *
 * The postmaster sets no_new_privs before loading the global filter: the
 * kernel needs it to load a filter without CAP_SYS_ADMIN, and it keeps
 * setuid programs from shedding the filter.  Every other process inherits
 * it, so loading a filter later needs nothing but the seccomp syscall.
 * Every filter pgseccomp loads has the same properties:
 *	- the log flag is set, so that "error" actions are audited, not silent;
 *	- syscalls of any architecture but the native one kill the process, so
 *	  that a secondary ABI (i386, x32) cannot get around the lists;
 *	- "kill" kills the whole process, never just the thread;
 *	- all threads of the process get the filter (TSYNC);
 *	- long lists become a binary tree of syscall numbers (libseccomp's
 *	  optimize level 2), so a lookup costs a few comparisons; a filter
 *	  with no rules keeps the default layout, because libseccomp before
 *	  2.5.4 ignores the default action of a binary tree with no rules
 *	  (every syscall would be allowed, or killed).  internal/filterprog
 *	  does the same.
 *
 * There are two ways in.  load_layer() compiles and loads in one go with
 * libseccomp; it serves the global filter, set_client_filter() and parallel
 * workers.  Session filters are paid for on every connection, so the
 * postmaster compiles them once (build_program(), at start and on reload)
 * and a new backend only hands the ready program to the kernel
 * (install_program()): one syscall.
 *
 * Go twin: internal/filterprog.
 *
 *-------------------------------------------------------------------------
 */
#include "pgseccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>


/* Set by pgseccomp.allow_speculative_store_bypass. */
bool		pgseccomp_allow_ssb = false;

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
 * A libseccomp context holding the layer's rules, with every attribute
 * listed at the top of this file; NULL with *rc set on failure.
 */
static scmp_filter_ctx
layer_context(const FilterLayer *layer, bool set_nnp, int *rc,
			  const char **failed_call)
{
	scmp_filter_ctx ctx;
	int			nrules = 0;

	for (int i = 0; i < layer->count; i++)
		if (layer->rules[i].action != layer->default_action)
			nrules++;

	*failed_call = "seccomp_init";
	ctx = seccomp_init(kernel_action(layer->default_action));
	if (ctx == NULL)
	{
		*rc = -ENOMEM;
		return NULL;
	}

	*failed_call = "seccomp_attr_set";
	if ((*rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, set_nnp)) < 0 ||
		(*rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1)) < 0 ||
		(*rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0 ||
		(*rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
								SCMP_ACT_KILL_PROCESS)) < 0 ||
		(nrules > 0 &&
		 (*rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0) ||
		(pgseccomp_allow_ssb &&
		 (*rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1)) < 0))
		goto fail;

	*failed_call = "seccomp_rule_add";
	for (int i = 0; i < layer->count; i++)
	{
		/* libseccomp refuses a rule that repeats the default; it is moot */
		if (layer->rules[i].action == layer->default_action)
			continue;
		*rc = seccomp_rule_add(ctx, kernel_action(layer->rules[i].action),
							   layer->rules[i].syscall, 0);
		if (*rc < 0)
			goto fail;
	}
	return ctx;

fail:
	seccomp_release(ctx);
	return NULL;
}

/*
 * Build the layer's filter and load it, setting no_new_privs first when
 * set_nnp (the postmaster).  Returns 0, or a negative errno with
 * *failed_call naming the call that failed.
 */
int
load_layer(const FilterLayer *layer, bool set_nnp, const char **failed_call)
{
	int			rc;
	scmp_filter_ctx ctx = layer_context(layer, set_nnp, &rc, failed_call);

	if (ctx == NULL)
		return rc;
	*failed_call = "seccomp_load";
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc;
}

/*
 * Compile the layer into a BPF program, palloc'd in the current memory
 * context.  libseccomp 2.5 can only write a program to a file descriptor,
 * so it goes through a pipe: the postmaster uses pipes anyway, so this
 * asks nothing new of the global filter.  The pipe is non-blocking and
 * made large enough for the largest program the kernel accepts, so a
 * write can neither block the postmaster nor be cut short.  Returns 0, or
 * a negative errno with *failed_call naming the call that failed.
 */
int
build_program(const FilterLayer *layer, struct sock_fprog *program,
			  const char **failed_call)
{
	const size_t max_size = BPF_MAXINSNS * sizeof(struct sock_filter);
	scmp_filter_ctx ctx;
	int			fds[2] = {-1, -1};
	char	   *buffer = NULL;
	size_t		size = 0;
	int			rc;

	ctx = layer_context(layer, false, &rc, failed_call);
	if (ctx == NULL)
		return rc;

	*failed_call = "pipe2";
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		goto fail_errno;
	*failed_call = "fcntl(F_SETPIPE_SZ)";
	if (fcntl(fds[1], F_GETPIPE_SZ) < (int) max_size &&
		fcntl(fds[1], F_SETPIPE_SZ, (int) max_size) < 0)
		goto fail_errno;

	*failed_call = "seccomp_export_bpf";
	if ((rc = seccomp_export_bpf(ctx, fds[1])) < 0)
		goto done;

	*failed_call = "read";
	buffer = palloc(max_size + 1);
	for (;;)
	{
		ssize_t		n = read(fds[0], buffer + size, max_size + 1 - size);

		if (n > 0)
			size += n;
		else if (n == 0 || errno == EAGAIN || size > max_size)
			break;
		else if (errno != EINTR)
			goto fail_errno;
	}

	*failed_call = "seccomp_export_bpf";
	if (size == 0 || size > max_size || size % sizeof(struct sock_filter) != 0)
	{
		rc = -E2BIG;
		goto done;
	}
	program->len = size / sizeof(struct sock_filter);
	program->filter = (struct sock_filter *) repalloc(buffer, size);
	buffer = NULL;
	rc = 0;
	goto done;

fail_errno:
	rc = -errno;
done:
	if (buffer)
		pfree(buffer);
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	seccomp_release(ctx);
	return rc;
}

/*
 * Hand a program made by build_program() to the kernel, with the flags
 * load_layer() would use.  Returns 0 or a negative errno.
 */
int
install_program(const struct sock_fprog *program)
{
	unsigned int flags = SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_TSYNC;
	long		rc;

	if (pgseccomp_allow_ssb)
		flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
	rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, program);
	if (rc < 0)
		return -errno;
	if (rc > 0)					/* TSYNC: another thread could not follow */
		return -EBUSY;
	return 0;
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
 * Once the global filter is in place, loading another filter needs only
 * the seccomp syscall.  Returns its name if the given (already loaded)
 * layers deny it, or NULL when loading can proceed.  Checked before
 * loading, because under a "kill" rule the attempt would kill the process.
 */
const char *
denied_loader_syscall(const FilterLayer *const *layers, int nlayers)
{
	int			syscall = seccomp_syscall_resolve_name("seccomp");
	SeccompAction effective = SECCOMP_ACTION_ALLOW;

	for (int l = 0; l < nlayers; l++)
		if (layers[l] != NULL)
			effective = Max(effective, layer_action(layers[l], syscall));
	return effective >= SECCOMP_ACTION_ERROR ? "seccomp" : NULL;
}
