/*-------------------------------------------------------------------------
 *
 * pgseccomp.h
 *		Types shared by the pieces of the pgseccomp extension.
 *
 * A "layer" is one seccomp filter: a default action plus one action for
 * each syscall that one of its lists names.  The global layer lives in the
 * postmaster, the session layer is loaded right after authentication, and
 * the client layer by set_client_filter().  The kernel applies every layer
 * and the highest-precedence action wins (docs/SPEC.md §1).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGSECCOMP_H
#define PGSECCOMP_H

#include "postgres.h"

#include <linux/filter.h>

#include "compat.h"

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/hsearch.h"
#include "utils/guc.h"

#include "syscall_list.h"

/* Where a layer comes from, innermost last; used in filter_action. */
typedef enum FilterOrigin
{
	FILTER_ORIGIN_GLOBAL = 0,
	FILTER_ORIGIN_SESSION,
	FILTER_ORIGIN_CLIENT
} FilterOrigin;

#define NUM_FILTER_ORIGINS 3

extern const char *const filter_origin_names[NUM_FILTER_ORIGINS];

typedef struct SyscallRule
{
	int			syscall;
	SeccompAction action;
} SyscallRule;

/* One filter layer; rules are sorted by syscall number. */
typedef struct FilterLayer
{
	SeccompAction default_action;
	int			count;
	SyscallRule rules[FLEXIBLE_ARRAY_MEMBER];
} FilterLayer;

/*
 * One list that goes into a layer.  Lists of a higher rank beat lists of a
 * lower rank that name the same syscall: an explicit setting beats one the
 * layer inherits.  Two lists of the same rank naming a syscall conflict.
 */
typedef struct LayerSource
{
	const char *setting;		/* name used in messages */
	SeccompAction action;
	int			rank;
	int			count;
	const int  *syscalls;
} LayerSource;

/* Ranks of LayerSource, lowest first. */
#define RANK_GLOBAL_INHERITED	1	/* '*': the global layer's list */
#define RANK_SESSION			2	/* a session-level list, or NULL in
									 * set_client_filter() */
#define RANK_EXPLICIT			3	/* per-role list, or an explicit
									 * set_client_filter() argument */

/* The session layers built by the postmaster: one default, one per role. */
typedef struct RoleLayer
{
	char	   *rolename;
	FilterLayer *layer;
	struct sock_fprog program;	/* the layer, compiled */
	char	   *worker_value;	/* the layer, for parallel workers */
} RoleLayer;

typedef struct SessionPlan
{
	MemoryContext context;		/* holds the plan; delete to free it */
	uint64		generation;		/* see reload.c */
	FilterLayer *default_layer;
	struct sock_fprog default_program;
	char	   *default_worker_value;
	int			nroles;
	RoleLayer  *roles;
} SessionPlan;

/* The values of one layer's settings, as read from the configuration. */
typedef struct LayerSettings
{
	const char *lists[NUM_SECCOMP_ACTIONS];
	SeccompAction default_action;
} LayerSettings;

/* Size of the buffers that carry a problem's description. */
#define ERRBUF_SIZE 512

/* settings.c: names, parsing, check hooks, per-role settings */
#define ENABLED_NAME			"pgseccomp.enabled"
#define GLOBAL_DEFAULT_NAME		"pgseccomp.global_syscall_default"
#define SESSION_DEFAULT_NAME	"pgseccomp.session_syscall_default"
#define SESSION_ROLES_NAME		"pgseccomp.session_roles"
#define ALLOW_SSB_NAME			"pgseccomp.allow_speculative_store_bypass"
#define WORKER_FILTERS_NAME		"pgseccomp.parallel_worker_filters"
#define ROLE_SETTING_PREFIX		"session_syscall_"
#define ROLE_DEFAULT_INDEX		NUM_SECCOMP_ACTIONS /* in role_setting_prefixes */

extern const char *const global_list_names[NUM_SECCOMP_ACTIONS];
extern const char *const session_list_names[NUM_SECCOMP_ACTIONS];
extern const char *const role_setting_prefixes[NUM_SECCOMP_ACTIONS + 1];

extern bool valid_role_setting_name(const char *rolename);
extern bool split_session_roles(const char *value, List **roles,
								char *errbuf, size_t errbuf_size);
extern const GucStringCheckHook global_list_hooks[NUM_SECCOMP_ACTIONS];
extern const GucStringCheckHook session_list_hooks[NUM_SECCOMP_ACTIONS];
extern bool check_global_default(char **newval, void **extra, GucSource source);
extern bool check_session_default(char **newval, void **extra, GucSource source);
extern bool check_postmaster_bool(bool *newval, void **extra, GucSource source);
extern bool check_session_roles(char **newval, void **extra, GucSource source);
typedef struct RoleSettings
{
	char		role[NAMEDATALEN];	/* folded to lower case; the hash key */
	const char *values[NUM_SECCOMP_ACTIONS + 1];	/* ROLE_DEFAULT_INDEX last */
} RoleSettings;

extern HTAB *read_role_settings(List *roles, char *errbuf, size_t errbuf_size);
extern const char *const *role_settings_of(HTAB *table, const char *rolename);
extern void setting_location(const char *name, const char *value,
							 char *buf, size_t size);
extern void warn_folded_role_names(const char *value);

/* layers.c: assembling layers */
extern FilterLayer *assemble_layer(SeccompAction default_action,
								   const LayerSource *sources, int nsources,
								   char *errbuf, size_t errbuf_size);
extern int *layer_list(const FilterLayer *layer, SeccompAction action,
					   int *count);
extern SeccompAction layer_action(const FilterLayer *layer, int syscall);
extern FilterLayer *copy_layer(const FilterLayer *layer);
extern bool layers_equal(const FilterLayer *a, const FilterLayer *b);
extern FilterLayer *layer_over_global(const FilterLayer *session,
									  const FilterLayer *global);
extern FilterLayer *build_global_layer(const LayerSettings *global,
									   char *errbuf, size_t errbuf_size);
extern SessionPlan *build_session_plan(const FilterLayer *global,
									   const LayerSettings *session,
									   const char *session_roles,
									   char *errbuf, size_t errbuf_size);

/* filter.c: loading layers into the kernel */
extern bool pgseccomp_allow_ssb;
extern int	load_layer(const FilterLayer *layer, bool set_nnp,
					   const char **failed_call);
extern int	build_program(const FilterLayer *layer, struct sock_fprog *program,
						  const char **failed_call);
extern int	install_program(const struct sock_fprog *program);
extern char *syscall_name(int syscall);
extern const char *denied_loader_syscall(const FilterLayer *const *layers,
										 int nlayers);

/* pgseccomp.c: the state of this process */
extern bool pgseccomp_enabled;
extern FilterLayer *global_layer;
extern const FilterLayer *session_layer;
extern FilterLayer *client_layer;
extern void load_client_layer(FilterLayer *layer);
extern void reload_session_plan(const char *rejected_setting,
								const char *rejected_detail);

/* reload.c: when the postmaster rebuilds the session plan, and what it tells */
#define SETTING_NAME_SIZE (2 * NAMEDATALEN + 32)

/* The outcome of the last reload, as seccomp_reload_status() shows it. */
typedef struct ReloadStatus
{
	uint64		generation;		/* of the session plan in force */
	TimestampTz plan_since;		/* when it came into force */
	TimestampTz rejected_at;	/* 0: the last reload was applied */
	char		rejected_setting[SETTING_NAME_SIZE];	/* "" if unknown */
	char		rejected_detail[ERRBUF_SIZE];
} ReloadStatus;

extern void reload_watch_start(uint64 generation);
extern void reload_note(const char *setting, const char *rejection);
extern void reload_publish(uint64 generation, const char *rejected_setting,
						   const char *rejected_detail);
extern bool reload_plan_is_current(uint64 generation);
extern bool reload_read_status(ReloadStatus *out);
extern const struct sock_fprog *planned_role_program(const char *rolename);

/* hardening.c: the postmaster's audit session, non-dumpable processes */
extern void define_hardening_settings(void);
extern void harden_postmaster(void);

/* rolecode.c: a listed role's functions in autovacuum and background workers */
extern void define_role_code_settings(void);
extern void install_role_code_hook(void);

/* workers.c: parallel workers get their leader's layers */
extern char *worker_filters_value;
extern bool check_worker_filters(char **newval, void **extra, GucSource source);
extern void assign_worker_filters(const char *newval, void *extra);
extern char *encode_worker_filters(const FilterLayer *session,
								   const FilterLayer *client);
extern void publish_worker_filters(const char *value);

#endif							/* PGSECCOMP_H */
