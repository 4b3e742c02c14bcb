package policy

// IOUring are the io_uring syscalls. Operations submitted through a ring
// (open, read, write, mkdir, connect, ...) are carried out by the kernel
// without a syscall of their own, so seccomp never sees them: a layer
// that lets a process set up a ring lets it around every per-syscall list
// of that layer and the layers below. Sessions get them only when a
// profile names them on purpose (record leaves them out unless asked).
var IOUring = []string{"io_uring_setup", "io_uring_enter", "io_uring_register"}
