/*
 * exerciser: makes the syscalls the live test's seccomp filter logs, one per
 * seccomp action and ABI. The live test (live_test.go) loads the filter in
 * a re-executed test binary and then executes this program, which inherits
 * the filter. Built by the test with gcc; x86_64 only (int $0x80, x32).
 *
 *   getppid            log        x86_64
 *   getpgrp            error      x86_64 (EACCES)
 *   getsid             trace      x86_64 (ENOSYS: no tracer)
 *   getpriority        trap       x86_64 (SIGSYS, caught)
 *   getpid via int 80  log        i386 (compat=1)
 *   getpid | x32 bit   log        x32 (arch x86_64, compat=1)
 *   setpgid            kill       x86_64: the process dies with SIGSYS
 *
 * With the argument "no-i386" it leaves out the int $0x80: on a kernel
 * that does not run i386 syscalls at all it would die with SIGSEGV before
 * seccomp sees it (internal/abiprobe tells the test which kernel this is).
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

static void on_sigsys(int sig) { (void) sig; }

int main(int argc, char **argv)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigsys;
	sigaction(SIGSYS, &sa, NULL);

	syscall(SYS_getppid);
	syscall(SYS_getpgrp);
	syscall(SYS_getsid, 0);
	syscall(SYS_getpriority, 0, 0);
	/* i386: getpid is 20 */
	if (argc < 2 || strcmp(argv[1], "no-i386") != 0)
		__asm__ volatile ("int $0x80" : : "a"(20) : "memory");
	/* x32: getpid is 39 with __X32_SYSCALL_BIT */
	{
		long nr = 39 | 0x40000000L;
		__asm__ volatile ("syscall" : "+a"(nr) : : "rcx", "r11", "memory");
	}
	syscall(SYS_setpgid, 0, 0);
	return 0;	/* not reached */
}
