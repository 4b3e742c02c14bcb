package pgconf

// WriteTestFile lets the live test, which is outside the package (it uses
// internal/cluster, which uses this package), write its files as the
// package's own tests do.
var WriteTestFile = write
