package demo

import (
	"slices"
	"strings"

	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// HandDerivedSessionAllowList is a hand-derived session allow-list for
// PostgreSQL 15 on Debian 12 x86_64: the syscalls strace saw client backends make under
// a mixed workload (pgbench, DDL, COPY, sorts that spill, CLUSTER, REINDEX,
// tablespaces, parallel query, LISTEN/NOTIFY, large objects, checkpoints),
// plus what policy.Needs says sessions need (failure paths such as WAL
// segment creation and abort(); TestSessionAllowListCoversNeeds checks it).
// It deliberately leaves out readlink, which the demo denies, and clone and
// execve, which a backend needs only to run programs.
//
// It is a list of known content for tests and benchmarks, good enough to
// run a session with "error" as its default. It is not what the demo runs
// with (the shipped profile), and a recorded profile replaces it.
var HandDerivedSessionAllowList = []string{
	"accept", "accept4", "access", "brk", "chdir", "chmod",
	"clock_gettime", "clock_nanosleep", "close", "close_range", "connect",
	"dup", "dup2", "dup3", "epoll_create1", "epoll_ctl", "epoll_pwait",
	"epoll_wait", "exit", "exit_group", "faccessat", "faccessat2",
	"fadvise64", "fallocate", "fchdir", "fcntl", "fdatasync", "fstat",
	"fstatfs", "fsync", "ftruncate", "futex", "getcwd", "getdents64",
	"getegid", "geteuid", "getgid", "getpeername", "getpid", "getppid",
	"getrandom", "getrlimit", "getrusage", "getsockname", "getsockopt",
	"gettid", "gettimeofday", "getuid", "ioctl", "kill", "link", "lseek",
	"lstat", "madvise", "memfd_create", "mkdir", "mkdirat", "mmap",
	"mprotect", "mremap", "munmap", "nanosleep", "newfstatat", "openat",
	"pipe2", "poll", "ppoll", "prctl", "pread64", "preadv", "prlimit64",
	"pselect6", "pwrite64", "pwritev", "read", "readv", "recvfrom",
	"recvmsg", "rename", "renameat", "restart_syscall", "rmdir", "rseq",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend",
	"sched_getaffinity", "sched_yield", "seccomp", "select", "sendmsg",
	"sendto", "set_robust_list", "setitimer", "setsid", "setsockopt",
	"shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack",
	"signalfd4", "socket", "stat", "statfs", "statx", "symlink",
	"sync_file_range", "sysinfo", "tgkill", "times", "truncate", "umask",
	"uname", "unlink", "unlinkat", "wait4", "write", "writev",
}

// HandDerivedSessionAllowSetting is HandDerivedSessionAllowList as a
// setting value.
func HandDerivedSessionAllowSetting() string {
	return strings.Join(HandDerivedSessionAllowList, ",")
}

// globalOnly are syscalls server processes other than client backends
// were seen making beyond policy.PostmasterOnly, by the bench's workload
// with the global default at log: clone3, clone's twin (policy.Twins),
// with which glibc 2.34 and later start threads and posix_spawn children.
var globalOnly = []string{"clone3"}

// HandDerivedGlobalAllowList is HandDerivedSessionAllowList plus what only
// the postmaster makes (policy.PostmasterOnly) and globalOnly: a global
// allow-list for the same server, sorted.
func HandDerivedGlobalAllowList() []string {
	list := slices.Concat(HandDerivedSessionAllowList, policy.PostmasterOnly(), globalOnly)
	slices.Sort(list)
	return slices.Compact(list)
}
