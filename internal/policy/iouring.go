package policy

// IOUring are the io_uring syscalls. Operations submitted through a ring
// (open, read, write, mkdir, connect, ...) are carried out by the kernel
// without a syscall of their own, so seccomp never sees them (IOUringWhy):
// a layer that lets a process set up a ring lets it around every
// per-syscall list of that layer and the layers below. Sessions get them
// only when a profile names them on purpose (record leaves them out unless
// asked). PostgreSQL 15 to 17 never use io_uring; 18 does only with
// io_method = io_uring.
var IOUring = []string{"io_uring_setup", "io_uring_enter", "io_uring_register"}

// IOUringWhy says why IOUring goes around a filter.
const IOUringWhy = "operations submitted through an io_uring ring (opening, reading, writing files, connecting sockets, making directories) are done by the kernel without a syscall of their own, so seccomp never sees them: a process that can set up or use a ring can do what the layer's lists deny"
