package abiprobe

import (
	"runtime"
	"testing"
)

// TestI386: the probe answers on x86_64, and says why when the kernel
// refuses i386 syscalls; a second call gives the cached answer.
func TestI386(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		if _, _, err := I386(); err == nil {
			t.Fatal("the probe ran on a machine that is not x86_64")
		}
		return
	}
	runs, reason, err := I386()
	if err != nil {
		t.Fatal(err)
	}
	if runs != (reason == "") {
		t.Fatalf("runs %v with reason %q: a reason is given exactly when i386 syscalls do not run", runs, reason)
	}
	t.Logf("i386 syscalls run: %v %s", runs, reason)
	again, reason2, _ := I386()
	if again != runs || reason2 != reason {
		t.Fatalf("second probe %v %q, first %v %q", again, reason2, runs, reason)
	}
}
