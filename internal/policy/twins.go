package policy

// TwinGroup is a set of syscalls that do one job, in generations (oldest
// first): a C library uses one generation or another by its version or
// architecture. Optional ones are used only opportunistically.
type TwinGroup struct {
	Generations [][]string
	Optional    []string
	Why         string
}

// Twins are syscalls a C library uses one or the other of, by version or
// architecture, in generations (oldest first). Optional ones are used only
// opportunistically, so denying just those is a notice.
var Twins = []TwinGroup{
	{[][]string{{"clone"}, {"clone3"}}, nil, "glibc 2.34 and later start threads and posix_spawn() children with clone3, older ones and fork() with clone"},
	{[][]string{{"open"}, {"openat"}, {"openat2"}}, []string{"openat2"}, "open() is openat in glibc 2.26 and later (and on aarch64), open in older ones and in static binaries; openat2 serves newer programs"},
	{[][]string{{"stat", "lstat", "fstat"}, {"newfstatat"}, {"statx"}}, []string{"statx"}, "glibc 2.33 and later implement stat(), lstat() and fstat() with newfstatat (statx on 32-bit, and coreutils call statx), older versions with stat, lstat and fstat"},
	{[][]string{{"access"}, {"faccessat"}, {"faccessat2"}}, nil, "access() is faccessat in newer glibc, and glibc 2.33 and later try faccessat2 first"},
	{[][]string{{"epoll_wait"}, {"epoll_pwait"}, {"epoll_pwait2"}}, []string{"epoll_pwait2"}, "glibc implements epoll_wait() with epoll_pwait on newer versions and some architectures"},
	{[][]string{{"select"}, {"pselect6"}}, nil, "glibc 2.33 and later implement select() with pselect6"},
	{[][]string{{"poll"}, {"ppoll"}}, nil, "glibc implements poll() with ppoll on newer versions and on aarch64"},
	{[][]string{{"pipe"}, {"pipe2"}}, nil, "glibc implements pipe() with pipe2 on newer versions and on aarch64"},
	{[][]string{{"dup2"}, {"dup3"}}, nil, "glibc implements dup2() with dup3 on aarch64 and newer versions"},
	{[][]string{{"getdents"}, {"getdents64"}}, nil, "glibc 2.33 and later read directories with getdents64 only"},
	{[][]string{{"signalfd"}, {"signalfd4"}}, nil, "glibc implements signalfd() with signalfd4"},
	{[][]string{{"eventfd"}, {"eventfd2"}}, nil, "glibc implements eventfd() with eventfd2"},
	{[][]string{{"wait4"}, {"waitid"}}, nil, "waitpid() is wait4 on x86_64 and waitid on newer architectures"},
	{[][]string{{"futex"}, {"futex_waitv"}}, []string{"futex_waitv"}, "newer threading code waits with futex_waitv as well as futex"},
	{[][]string{{"rename"}, {"renameat"}, {"renameat2"}}, nil, "rename() is renameat or renameat2 on newer glibc and on aarch64"},
	{[][]string{{"unlink"}, {"unlinkat"}}, nil, "unlink() and rmdir() are unlinkat on newer glibc and on aarch64"},
	{[][]string{{"mkdir"}, {"mkdirat"}}, nil, "mkdir() is mkdirat on newer glibc and on aarch64"},
	{[][]string{{"readlink"}, {"readlinkat"}}, nil, "readlink() is readlinkat on newer glibc and on aarch64"},
	{[][]string{{"chmod"}, {"fchmodat"}, {"fchmodat2"}}, []string{"fchmodat2"}, "chmod() is fchmodat, and the newest glibc try fchmodat2 for flags"},
	{[][]string{{"statfs"}, {"fstatfs"}}, nil, "PostgreSQL and the C library query file systems by path and by descriptor"},
	{[][]string{{"sendfile"}, {"copy_file_range"}}, nil, "file copies (cp in archive_command, extensions) use copy_file_range on newer coreutils and kernels, sendfile or read/write on older ones"},
	{[][]string{{"close"}, {"close_range"}}, nil, "glibc 2.34 and later close descriptors in bulk (closefrom(), posix_spawn()) with close_range"},
	{[][]string{{"rseq"}}, []string{"rseq"}, "glibc 2.35 and later register rseq in every new thread; a denied registration is tolerated but audited each time"},
}

// TwinWhy is why splitting twins breaks things.
const TwinWhy = "; the C library picks one by its version and falls back to the other only when the kernel says ENOSYS, never on the EACCES a filter returns, so a list that allows one and denies the other breaks after a glibc upgrade, on another distribution, or in a program started by archive_command or COPY PROGRAM"
