package extension

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestNoLeakAcrossReloads: each reload rebuilds the session layers of every
// listed role in the postmaster; the old ones must be freed. 300 reloads
// alternating between two configurations may not grow the postmaster.
func TestNoLeakAcrossReloads(t *testing.T) {
	var roles []string
	configs := [2]map[string]string{{}, {}}
	for i := range 20 {
		role := fmt.Sprintf("role%d", i)
		roles = append(roles, role)
		configs[0]["session_syscall_error."+role] = "chroot,swapon,swapoff,mount"
		configs[1]["session_syscall_log."+role] = "acct,sethostname"
	}
	for _, cfg := range configs {
		cfg["pgseccomp.session_roles"] = strings.Join(roles, ",")
		cfg["pgseccomp.session_syscall_error"] = "kexec_load,reboot"
	}
	c := newCluster(t, configs[0])
	pid, err := c.PostmasterPID()
	if err != nil {
		t.Fatal(err)
	}
	reloads := func(n int) {
		for i := range n {
			if err := c.SetSettings(confSettings(configs[i%2])); err != nil {
				t.Fatal(err)
			}
			if err := c.Reload(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	reloads(20) // let allocator and caches settle
	before := rssKB(t, pid)
	reloads(300)
	after := rssKB(t, pid)
	t.Logf("postmaster VmRSS %d kB before, %d kB after 300 reloads", before, after)
	// 20 roles' layers are a few kB; a leak of them per reload would be
	// over a megabyte after 300 reloads.
	if after-before > 512 {
		t.Errorf("postmaster grew by %d kB over 300 reloads", after-before)
	}
	if logged := c.LogTail(400); strings.Contains(logged, "not applied") {
		t.Errorf("a reload was rejected:\n%s", logged)
	}
}

func rssKB(t *testing.T, pid int) int {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}
