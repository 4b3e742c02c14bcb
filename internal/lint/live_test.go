package lint

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
	"github.com/pgseccomp/pgseccomp/internal/cluster/clustertest"
	"github.com/pgseccomp/pgseccomp/internal/demo"
	"github.com/pgseccomp/pgseccomp/internal/policy"
)

// TestNeedsOnLiveServer: what lint calls an error because a configured
// connection method needs it is what a real server confined by the
// installed extension needs. Each case starts a server whose global layer
// has an error default and allows demo.HandDerivedGlobalAllowList without the
// syscalls of one need: lint must report that need as an error, and the
// server must fail the way its reason says; with the same list complete,
// the same login works (the control).
func TestNeedsOnLiveServer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the server runs as postgres, and the peer login maps root to it")
	}
	tests := []struct {
		check   string
		hba     string
		ident   string
		remove  []string // what to take out of the allow list; default: the need's syscalls
		noStart bool     // the server must not start
		user    string   // the login that must fail
		tcp     bool     // the login is over TCP (with a password for a role of its own)
		sslmode string   // the TCP login's sslmode; default disable
		conf    map[string]string
	}{
		{check: "postmaster", hba: "local all all trust\n", remove: []string{"clone"}, noStart: true},
		{check: "peer", hba: "local all all peer map=lint\nhost all all 127.0.0.1/32 trust\n", ident: "lint root postgres\n", user: "postgres"},
		{check: "listen-tcp", hba: "local all all trust\n", remove: []string{"setsockopt"}, noStart: true},
		{check: "password", hba: "local all all trust\nhost all all 127.0.0.1/32 md5\n", user: "lint_pw", tcp: true},
		{check: "ssl", hba: "local all all trust\nhostssl all all 127.0.0.1/32 trust\n", user: "postgres", tcp: true, sslmode: "require",
			conf: map[string]string{"ssl": "on", "ssl_cert_file": "'/etc/ssl/certs/ssl-cert-snakeoil.pem'", "ssl_key_file": "'/etc/ssl/private/ssl-cert-snakeoil.key'"}},
	}
	// One cluster for every case (initdb is the slow part): each run
	// rewrites its settings and pg_hba.conf, starts and stops it.
	c := clustertest.NewStopped(t, cluster.Options{})
	for _, tt := range tests {
		t.Run(tt.check, func(t *testing.T) {
			need := policy.NeedsOf(tt.check)[0]
			for _, control := range []bool{true, false} {
				allow := slices.Concat(demo.HandDerivedGlobalAllowList(), policy.GlobalNeeds(policy.ListenTCP, policy.Peer, policy.Password))
				remove := tt.remove
				if remove == nil {
					remove = need.Global
				}
				if !control {
					allow = slices.DeleteFunc(allow, func(n string) bool { return slices.Contains(remove, n) })
				}
				slices.Sort(allow)
				settings := map[string]string{
					"shared_preload_libraries":         cluster.QuoteValue("pgseccomp"),
					"pgseccomp.enabled":                "on",
					"pgseccomp.global_syscall_default": cluster.QuoteValue("error"),
					"pgseccomp.global_syscall_allow":   cluster.QuoteValue(strings.Join(slices.Compact(allow), ",")),
					"log_connections":                  "on",
				}
				maps.Copy(settings, tt.conf)
				if err := c.SetSettings(settings); err != nil {
					t.Fatal(err)
				}
				for name, text := range map[string]string{"pg_hba.conf": tt.hba, "pg_ident.conf": tt.ident} {
					if err := os.WriteFile(filepath.Join(c.DataDir, name), []byte(text), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				findings := lintDir(t, c.DataDir, nil, nil)
				reported := slices.ContainsFunc(findings, func(f Finding) bool { return f.Check == tt.check && f.Severity == Error })
				if reported == control {
					t.Errorf("control %v: lint reported a %s error: %v\n%+v", control, tt.check, reported, findings)
				}
				ctx := context.Background()
				err := c.Start(ctx)
				switch {
				case tt.noStart && control && err != nil:
					t.Fatalf("control: the server did not start: %v", err)
				case tt.noStart && !control && err == nil:
					t.Errorf("the server started without %s", strings.Join(remove, ", "))
				case tt.noStart:
					if err == nil {
						if err := c.Stop(ctx); err != nil {
							t.Error(err)
						}
					}
					continue
				case err != nil:
					t.Fatalf("control %v: the server did not start: %v", control, err)
				}
				var err2 error
				if tt.tcp && tt.user != "postgres" {
					conn, err := c.Connect(ctx, "", "")
					if err != nil {
						t.Fatal(err)
					}
					// Hashed here: hashing in the server draws a salt
					// with getrandom too.
					hash := md5.Sum([]byte("lint-secret" + tt.user))
					_, err = conn.Exec(ctx, "DROP ROLE IF EXISTS "+tt.user)
					if err == nil {
						_, err = conn.Exec(ctx, "CREATE ROLE "+tt.user+" LOGIN PASSWORD 'md5"+hex.EncodeToString(hash[:])+"'")
					}
					conn.Close(ctx)
					if err != nil {
						t.Fatal(err)
					}
				}
				if tt.tcp {
					dsn := c.TCPConnString(tt.user, "") + " password=lint-secret"
					if tt.sslmode != "" {
						dsn += " sslmode=" + tt.sslmode
					}
					var pc *pgx.Conn
					pc, err2 = pgx.Connect(ctx, dsn)
					if err2 == nil {
						pc.Close(ctx)
					}
				} else {
					var conn *pgx.Conn
					conn, err2 = c.Connect(ctx, tt.user, "")
					if err2 == nil {
						conn.Close(ctx)
					}
				}
				err = err2
				if control && err != nil {
					t.Errorf("control: %s could not log in: %v", tt.user, err)
				}
				if !control && err == nil {
					t.Errorf("%s logged in although the global layer denies %s", tt.user, strings.Join(remove, ", "))
				}
				if !control {
					t.Logf("without %s: %v", strings.Join(remove, ", "), firstLine(err))
				}
				if err := c.Stop(ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func firstLine(err error) string {
	if err == nil {
		return ""
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
