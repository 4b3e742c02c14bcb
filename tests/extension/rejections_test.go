package extension

import (
	"context"
	"strings"
	"testing"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/cluster/clustertest"
	"github.com/pgseccomp/pgseccomp/internal/vectors"
)

// TestRejections: every shared rejection (testdata/vectors/rejected) stops
// the server from starting, and its message names the setting and gives
// the detail the Go model gives (internal/policy's TestRejections checks
// the model against the same file). TestStartRefused keeps the cases whose
// messages are the server's own.
func TestRejections(t *testing.T) {
	cases, err := vectors.LoadRejections("../../testdata/vectors/rejected/rejections.json")
	if err != nil {
		t.Fatal(err)
	}
	c := clustertest.NewStopped(t, cluster.Options{})
	for _, rc := range cases {
		t.Run(rc.Name, func(t *testing.T) {
			if err := c.SetSettings(confSettings(rc.Settings)); err != nil {
				t.Fatal(err)
			}
			err := c.Start(context.Background())
			if err == nil {
				c.Stop(context.Background())
				t.Fatalf("server started with %v", rc.Settings)
			}
			for _, w := range []string{rc.Setting, rc.Detail} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("start error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}
