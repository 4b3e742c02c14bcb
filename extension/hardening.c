/*-------------------------------------------------------------------------
 *
 * hardening.c
 *		What the postmaster does to itself, besides filters, before it
 *		forks anything: it starts an audit session of its own and makes
 *		itself non-dumpable.  Every child inherits both.
 *
 * Non-dumpable: a process of the same uid can no longer open
 * /proc/<pid>/mem, call process_vm_readv/writev or ptrace on a server
 * process (the kernel's ptrace access check refuses a non-dumpable target
 * without CAP_SYS_PTRACE), so code running in one confined session cannot
 * write into the postmaster, and through it into every later backend,
 * before any session filter.  The price: no core files, and the server's
 * /proc/<pid> files belong to root.
 *
 * Audit session: the kernel starts a new audit session for a task that
 * writes its own loginuid while the loginuid is unset (audit_set_loginuid;
 * no privilege needed then), and a fork copies it.  Every audit record of
 * the server's processes then carries the same ses=, and no other
 * process's does, even after the process has exited.
 * internal/cluster's auditSession does the same from outside, with
 * privilege, for the servers pgseccomp record starts.
 *
 * Go twin: none; nothing in the tool models it.
 *
 *-------------------------------------------------------------------------
 */
#include "pgseccomp.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "utils/guc.h"

#define ALLOW_CORE_DUMPS_NAME	"pgseccomp.allow_core_dumps"
#define AUDIT_SESSION_NAME		"pgseccomp.audit_session"

/* The kernel's AUDIT_UID_UNSET and AUDIT_SID_UNSET */
#define AUDIT_UNSET				((uint32) -1)

/* The settings, owned by the configuration system: read, never written. */
static bool allow_core_dumps = false;
static bool audit_session = true;

void
define_hardening_settings(void)
{
	DefineCustomBoolVariable(ALLOW_CORE_DUMPS_NAME,
							 "Leaves the server's processes dumpable (core files, ptrace and /proc/<pid>/mem by the same OS user).",
							 "Off makes every server process non-dumpable, so that code run by one session cannot "
							 "read or write the memory of the postmaster or of another session.",
							 &allow_core_dumps, false,
							 PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable(AUDIT_SESSION_NAME,
							 "Starts an audit session of the server's own at start, when its login uid is unset.",
							 "Every audit record of the server's processes then carries that session id (ses=).",
							 &audit_session, true,
							 PGC_POSTMASTER, 0, NULL, NULL, NULL);
}

/* Read a number from /proc/self/<name>; false with errno set on failure. */
static bool
read_proc_self_number(const char *name, uint32 *value)
{
	char		path[MAXPGPATH];
	char		buf[32];
	char	   *end;
	ssize_t		len;
	int			fd;
	int			save_errno;

	snprintf(path, sizeof(path), "/proc/self/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	len = read(fd, buf, sizeof(buf) - 1);
	save_errno = errno;
	close(fd);
	if (len <= 0)
	{
		errno = len == 0 ? EINVAL : save_errno;
		return false;
	}
	buf[len] = '\0';
	errno = 0;
	*value = (uint32) strtoul(buf, &end, 10);
	if (errno != 0 || end == buf)
	{
		errno = EINVAL;
		return false;
	}
	return true;
}

/* Write our uid to /proc/self/loginuid; false with errno set on failure. */
static bool
set_loginuid(void)
{
	char		buf[32];
	int			len = snprintf(buf, sizeof(buf), "%u", (unsigned int) getuid());
	int			fd = open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
	ssize_t		written;
	int			save_errno;

	if (fd < 0)
		return false;
	written = write(fd, buf, len);
	save_errno = written < 0 ? errno : EIO;
	close(fd);
	errno = save_errno;
	return written == len;
}

/*
 * Put the server in an audit session of its own, and log its id (once, at
 * LOG: tools find the server's records by it).
 */
static void
start_audit_session(void)
{
	uint32		loginuid;
	uint32		session;

	if (!read_proc_self_number("loginuid", &loginuid))
	{
		ereport(LOG,
				(errmsg("pgseccomp: could not read the server's login uid: %m"),
				 errdetail("The kernel may have no audit support; the server's audit records carry no session of its own.")));
		return;
	}
	if (loginuid != AUDIT_UNSET)
	{
		if (!read_proc_self_number("sessionid", &session))
			session = AUDIT_UNSET;
		ereport(LOG,
				(errmsg("pgseccomp: the server keeps audit session %u of login uid %u",
						session, loginuid),
				 errdetail("The server was started with its login uid already set (by a login session, or by a tool that gave it an audit session), "
						   "so it cannot start an audit session of its own: other processes of that login share ses=%u.",
						   session),
				 errhint("Start the server from a service manager that leaves the login uid unset to tell its audit records apart.")));
		return;
	}
	if (!set_loginuid())
	{
		ereport(LOG,
				(errmsg("pgseccomp: could not start an audit session for the server: could not write /proc/self/loginuid: %m")));
		return;
	}
	if (!read_proc_self_number("sessionid", &session) || session == AUDIT_UNSET)
	{
		ereport(LOG,
				(errmsg("pgseccomp: could not start an audit session for the server"),
				 errdetail("The kernel gave the server no audit session id.")));
		return;
	}
	ereport(LOG,
			(errmsg("pgseccomp: the server runs in audit session %u", session),
			 errdetail("Every audit record of its processes carries ses=%u and auid=%u.",
					   session, (unsigned int) getuid())));
}

/*
 * Called once by the postmaster, before it loads the global filter.  The
 * audit session comes first: a non-dumpable process's /proc/self files
 * belong to root, so it could no longer write its loginuid.
 */
void
harden_postmaster(void)
{
	if (audit_session)
		start_audit_session();
	if (!allow_core_dumps && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		ereport(FATAL,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("pgseccomp could not make the server's processes non-dumpable: %m"),
				 errhint("Set %s = on to start without it.", ALLOW_CORE_DUMPS_NAME)));
}
