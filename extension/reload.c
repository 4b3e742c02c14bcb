/*-------------------------------------------------------------------------
 *
 * reload.c
 *		When the postmaster rebuilds the session plan after a reload, and
 *		what it tells backends and monitoring about it.
 *
 * No hook runs in the postmaster at the end of a reload, on any major.
 * What ProcessConfigFile() does, in 15 to 19 alike, is create a memory
 * context named "config file processing", apply every item of the
 * configuration files inside it (running the check hook of each of our
 * settings that a file names, PGC_POSTMASTER ones included), and delete the
 * context at the end.  So the first of our check hooks to run in a reload
 * registers a callback on that context, and the callback rebuilds the plan
 * once every item has been applied, before the postmaster can fork again.
 * From 16 on this is ordinary code (the postmaster reloads in its main
 * loop); up to 15 the postmaster reloads inside its SIGHUP handler, and so
 * does this.  If a future major renames the context, every reload logs a
 * WARNING, keeps the plan of the last restart, and says so in
 * seccomp_reload_status().
 *
 * A reload is all or nothing: check hooks record the first rejected
 * setting, and then the whole previous plan stays, although PostgreSQL
 * applies the valid settings of the same reload.  (Per-role settings are
 * placeholders with no hook; build_session_plan() checks them and fails
 * the same way.)
 *
 * Shared memory holds the generation of the plan in force, so that a
 * backend forked before a reload that changed the plan, and authenticated
 * after it, is refused instead of loading an outdated filter; and the
 * outcome of the last reload, for seccomp_reload_status().  Only the
 * postmaster writes it; readers retry around a change counter, as
 * PostgreSQL's own backend status does.  The postmaster also writes the
 * outcome to pg_stat_tmp/pgseccomp.status in the data directory (written
 * to a temporary file and renamed, so never seen half-written; left out
 * of base backups like everything in pg_stat_tmp), where `pgseccomp
 * status` reads it without connecting (internal/procs/reload.go).
 *
 * Go twin: internal/procs/reload.go reads the status file written here.
 *
 *-------------------------------------------------------------------------
 */
#include "pgseccomp.h"

#include <fcntl.h>
#include <unistd.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

/* The name ProcessConfigFile() gives its memory context (guc-file.l, guc.c). */
#define CONFIG_CONTEXT_NAME "config file processing"

typedef struct ReloadShared
{
	pg_atomic_uint64 generation;	/* of the session plan in force */
	uint32		changecount;	/* odd while the postmaster writes status */
	ReloadStatus status;
} ReloadShared;

static ReloadShared *shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* The postmaster's side. */
static ReloadStatus status;		/* what shared memory must say */
static bool watching = false;	/* in the postmaster, after _PG_init */
static bool watch_registered = false;	/* for the reload in progress */
static bool mechanism_missing = false;
static TimestampTz warned_reload;	/* PgReloadTime when last warned */
static bool rejected = false;	/* in the reload in progress */
static char rejected_setting[SETTING_NAME_SIZE];
static char rejected_detail[ERRBUF_SIZE];

/*
 * Runs when ProcessConfigFile() deletes its context: everything has been
 * applied.  Never raises: an ERROR here would end the postmaster.
 */
static void
reload_finished(void *arg)
{
	MemoryContext oldcontext = CurrentMemoryContext;

	watch_registered = false;
	PG_TRY();
	{
		reload_session_plan(rejected ? rejected_setting : NULL,
							rejected ? rejected_detail : NULL);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcontext);
		EmitErrorReport();
		FlushErrorState();
		ereport(LOG,
				(errmsg("pgseccomp session settings not applied; new sessions keep the previous session filters"),
				 errdetail("Rebuilding the session filters failed.")));
		reload_publish(status.generation, NULL,
					   "Rebuilding the session filters failed; see the server log.");
	}
	PG_END_TRY();
	rejected = false;
}

/*
 * Called by every check hook of ours: setting is the setting's name (NULL
 * for settings that cannot be rejected), rejection is why its value was
 * rejected, or NULL.  Does something only in the postmaster, after
 * _PG_init, which is to say during a reload.
 */
void
reload_note(const char *setting, const char *rejection)
{
	if (!watching || IsUnderPostmaster)
		return;

	if (!watch_registered)
	{
		MemoryContext context;
		MemoryContextCallback *callback;

		for (context = CurrentMemoryContext; context != NULL;
			 context = context->parent)
			if (strcmp(context->name, CONFIG_CONTEXT_NAME) == 0)
				break;
		if (context == NULL)
		{
			/* once per reload: PgReloadTime changes at the end of each */
			if (mechanism_missing && warned_reload == PgReloadTime)
				return;
			if (!mechanism_missing)
				reload_publish(status.generation, NULL,
							   "pgseccomp could not follow a reload; new sessions keep the session filters of the last restart.");
			mechanism_missing = true;
			warned_reload = PgReloadTime;
			ereport(WARNING,
					(errmsg("pgseccomp cannot apply reloaded session settings: no memory context \"%s\"",
							CONFIG_CONTEXT_NAME),
					 errdetail("This PostgreSQL reloads its configuration in a way pgseccomp does not know; new sessions keep the session filters of the last restart."),
					 errhint("Restart the server to apply session settings, and report this to the pgseccomp developers.")));
			return;
		}
		callback = MemoryContextAlloc(context, sizeof(MemoryContextCallback));
		callback->func = reload_finished;
		callback->arg = NULL;
		MemoryContextRegisterResetCallback(context, callback);
		watch_registered = true;
		rejected = false;
	}

	if (rejection != NULL && !rejected)
	{
		strlcpy(rejected_setting, setting ? setting : "", sizeof(rejected_setting));
		strlcpy(rejected_detail, rejection, sizeof(rejected_detail));
		rejected = true;
	}
}

/* Seconds since the Unix epoch, for the status file; 0 stays 0. */
static double
unix_seconds(TimestampTz t)
{
	if (t == 0)
		return 0;
	return (double) t / USECS_PER_SEC +
		(double) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
}

/* A value on one line of the status file. */
static void
one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

/*
 * Write the status file (see the top of this file).  A failure is logged
 * and changes nothing else: the file is for monitoring.
 */
static void
write_status_file(void)
{
	const char *path = PG_STAT_TMP_DIR "/pgseccomp.status";
	const char *tmp = PG_STAT_TMP_DIR "/pgseccomp.status.tmp";
	char		buf[4 * ERRBUF_SIZE];
	char		setting[SETTING_NAME_SIZE];
	char		detail[ERRBUF_SIZE];
	int			len;
	int			fd;
	int			save_errno;

	strlcpy(setting, status.rejected_setting, sizeof(setting));
	strlcpy(detail, status.rejected_detail, sizeof(detail));
	one_line(setting);
	one_line(detail);
	len = snprintf(buf, sizeof(buf),
				   "# pgseccomp: the session plan in force and the last rejected reload\n"
				   "pid=%d\n"
				   "generation=" UINT64_FORMAT "\n"
				   "plan_since=%.6f\n"
				   "rejected_at=%.6f\n"
				   "rejected_setting=%s\n"
				   "rejected_detail=%s\n",
				   (int) getpid(), status.generation,
				   unix_seconds(status.plan_since),
				   unix_seconds(status.rejected_at), setting, detail);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, S_IRUSR | S_IWUSR);
	if (fd >= 0)
	{
		bool		ok = write(fd, buf, len) == len;

		ok = close(fd) == 0 && ok;
		if (ok && rename(tmp, path) == 0)
			return;
		save_errno = errno;
		(void) unlink(tmp);
		errno = save_errno;
	}
	ereport(LOG,
			(errcode_for_file_access(),
			 errmsg("pgseccomp could not write \"%s\": %m", path),
			 errdetail("pgseccomp status cannot tell whether the server runs filters older than its configuration.")));
}

/*
 * Record the outcome of a reload (or of start-up): the generation of the
 * plan in force, and what was rejected, if anything.  A new generation
 * becomes visible to backends last.
 */
void
reload_publish(uint64 generation, const char *setting, const char *detail)
{
	TimestampTz now = GetCurrentTimestamp();

	if (detail == NULL)
	{
		if (generation != status.generation || status.plan_since == 0)
			status.plan_since = now;
		status.rejected_at = 0;
		status.rejected_setting[0] = '\0';
		status.rejected_detail[0] = '\0';
	}
	else
	{
		status.rejected_at = now;
		strlcpy(status.rejected_setting, setting ? setting : "",
				sizeof(status.rejected_setting));
		strlcpy(status.rejected_detail, detail, sizeof(status.rejected_detail));
	}
	status.generation = generation;

	/* Before shared memory exists, this is not a running server (yet). */
	if (shared == NULL)
		return;
	write_status_file();
	shared->changecount++;
	pg_write_barrier();
	shared->status = status;
	pg_write_barrier();
	shared->changecount++;
	pg_atomic_write_u64(&shared->generation, generation);
}

/* Whether a plan of this generation is the one in force. */
bool
reload_plan_is_current(uint64 generation)
{
	return shared == NULL || pg_atomic_read_u64(&shared->generation) == generation;
}

/* A consistent copy of the status in shared memory; false if there is none. */
bool
reload_read_status(ReloadStatus *out)
{
	if (shared == NULL)
		return false;
	for (;;)
	{
		uint32		before = shared->changecount;

		pg_read_barrier();
		*out = shared->status;
		pg_read_barrier();
		if (before % 2 == 0 && before == shared->changecount)
			return true;
		CHECK_FOR_INTERRUPTS();
	}
}

static void
reload_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(ReloadShared)));
}

/* Also after a crash, when shared memory is made anew. */
static void
reload_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("pgseccomp", sizeof(ReloadShared), &found);
	if (!found)
	{
		pg_atomic_init_u64(&shared->generation, status.generation);
		shared->changecount = 0;
		shared->status = status;
	}
	LWLockRelease(AddinShmemInitLock);
	write_status_file();
}

/* From _PG_init, in the postmaster, once the first plan is built. */
void
reload_watch_start(uint64 generation)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = reload_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = reload_shmem_startup;
	reload_publish(generation, NULL, NULL);
	watching = IsPostmasterEnvironment && !IsUnderPostmaster;
}
