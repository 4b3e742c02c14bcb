package workload

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgseccomp/pgseccomp/internal/cluster"
)

// Roles of the authentication steps, one per method.
const (
	rolePlain  = prefix + "plain"
	roleIdent  = prefix + "ident"
	roleLDAP   = prefix + "ldap"
	roleReject = prefix + "reject"
	roleRADIUS = prefix + "radius"
	rolePeer   = prefix + "peer"
	roleCert   = prefix + "cert"
	identMap   = prefix + "map"
)

// authStep: password authentication (SCRAM, MD5, cleartext) succeeding and
// failing, peer authentication with a regular-expression ident map, and
// methods that reach out: RADIUS (UDP to a RADIUS server the step runs,
// which accepts), ident (a TCP connection to the client's identd, refused)
// and LDAP (a connection to a server that is not there). These run before
// the session's filter is loaded: they are the global layer's.
func authStep() Step {
	return step("authentication-methods", true, func(ctx context.Context, r *runner) error {
		s, err := r.connect(ctx, "postgres")
		if err != nil {
			return err
		}
		cfg, err := tcpConfig(ctx, r, s, workDB)
		if err != nil || cfg == nil {
			return err
		}
		if err := s.exec(ctx,
			`DROP ROLE IF EXISTS `+rolePlain, `DROP ROLE IF EXISTS `+roleIdent, `DROP ROLE IF EXISTS `+roleLDAP,
			`DROP ROLE IF EXISTS `+roleReject, `DROP ROLE IF EXISTS `+rolePeer, `DROP ROLE IF EXISTS `+roleRADIUS,
			`CREATE ROLE `+rolePlain+` LOGIN PASSWORD 'workload-plain'`,
			`CREATE ROLE `+roleIdent+` LOGIN`,
			`CREATE ROLE `+roleLDAP+` LOGIN`,
			`CREATE ROLE `+roleReject+` LOGIN`,
			`CREATE ROLE `+rolePeer+` LOGIN`,
			`CREATE ROLE `+roleRADIUS+` LOGIN`,
		); err != nil {
			return err
		}
		// Nothing listens on a port that was just free: LDAP is refused at once.
		ldapPort, err := freePort()
		if err != nil {
			return r.errorf("%v", err)
		}
		// RADIUS, up to 18: 19 removed it.
		major, err := cluster.ConnMajor(ctx, s.conn)
		if err != nil {
			return err
		}
		var radiusHBA []string
		if major < 19 {
			const radiusSecret = "workload-radius-secret"
			radius, err := startRADIUS(ctx, radiusSecret)
			if err != nil {
				return r.errorf("start a RADIUS server for the server to ask: %v", err)
			}
			defer radius.close()
			radiusHBA = []string{`host all ` + roleRADIUS + ` 127.0.0.1/32 radius radiusservers=127.0.0.1 radiussecrets=` + radiusSecret + ` radiusports=` + strconv.Itoa(radius.port()) + ` radiusidentifiers=pgseccomp`}
		}
		restore, err := r.editHBA(ctx, s, hbaEdit{
			hba: append(radiusHBA,
				`host all `+roleUser+` 127.0.0.1/32 scram-sha-256`,
				`host all `+roleMD5+` 127.0.0.1/32 md5`,
				`host all `+rolePlain+` 127.0.0.1/32 password`,
				`host all `+roleIdent+` 127.0.0.1/32 ident`,
				`host all `+roleLDAP+` 127.0.0.1/32 ldap ldapserver=127.0.0.1 ldapport=`+strconv.Itoa(ldapPort)+` ldapprefix="cn=" ldapsuffix=",dc=example,dc=org"`,
				`host all `+roleReject+` 127.0.0.1/32 reject`,
				`local all `+rolePeer+` peer map=`+identMap,
			),
			ident: []string{identMap + ` /^(.*)$ ` + rolePeer},
		})
		if err != nil {
			return err
		}
		defer restore()
		login := func(user, password string) error {
			c := cfg.Copy()
			c.User, c.Password, c.Database = user, password, workDB
			conn, err := pgx.ConnectConfig(ctx, c)
			if err != nil {
				return err
			}
			defer conn.Close(ctx)
			_, err = conn.Exec(ctx, `SELECT current_user, count(*) FROM pg_class`)
			return err
		}
		// pg_conf_load_time moves even when the postmaster keeps the old
		// pg_hba.conf (a line it rejects): the rules are in force once
		// the reject rule holds.
		if err := r.waitFor(ctx, "pg_hba.conf's new rules to be in force", waitTimeout, func() (bool, error) {
			return sqlState(login(roleReject, "")) == "28000", nil
		}); err != nil {
			return err
		}
		type loginCase struct{ user, password, code, method string }
		cases := []loginCase{
			{roleUser, "workload-scram", "", "scram-sha-256"},
			{roleMD5, "workload-md5", "", "md5"},
			{rolePlain, "workload-plain", "", "password"},
			{roleUser, "wrong", "28P01", "scram-sha-256"},
			{roleMD5, "wrong", "28P01", "md5"},
			{roleIdent, "", "28000", "ident"},
			{roleLDAP, "any", "28000", "ldap"},
			{roleReject, "", "28000", "reject"},
		}
		if radiusHBA != nil {
			cases = append(cases, loginCase{roleRADIUS, "any password", "", "radius"})
		}
		for _, tc := range cases {
			r.mark(LoginEvent("host", tc.method))
			err := login(tc.user, tc.password)
			r.mark("")
			switch {
			case tc.code == "" && err != nil:
				return r.errorf("log in as %s over TCP: %s", tc.user, describe(err))
			case tc.code != "" && err == nil:
				return r.errorf("log in as %s over TCP succeeded; the step expects SQLSTATE %s", tc.user, tc.code)
			case tc.code != "" && sqlState(err) != tc.code:
				return r.errorf("log in as %s over TCP: expected SQLSTATE %s, got: %s", tc.user, tc.code, describe(err))
			}
		}
		// Peer authentication: psql runs as the server's OS user.
		r.mark(LoginEvent("local", "peer"))
		err = r.run(ctx, nil, "psql", "-X", "-U", rolePeer, "-d", workDB, "-c", "SELECT current_user")
		r.mark("")
		if err != nil {
			return err
		}
		if err := restore(); err != nil {
			return err
		}
		return s.exec(ctx,
			`DROP ROLE `+rolePlain, `DROP ROLE `+roleIdent, `DROP ROLE `+roleLDAP, `DROP ROLE `+roleReject, `DROP ROLE `+rolePeer, `DROP ROLE `+roleRADIUS)
	})
}

// sslStep: TLS: the server's key protected by a passphrase that the
// postmaster gets from ssl_passphrase_command (a child process), a CA and
// a certificate revocation list; sessions encrypted end to end, one of them
// authenticated by a client certificate.
func sslStep() Step {
	return step("ssl-connections-cert-auth", true, func(ctx context.Context, r *runner) error {
		dir, err := r.scratchDir(ctx)
		if err != nil {
			return err
		}
		s, err := r.work(ctx)
		if err != nil {
			return err
		}
		cfg, err := tcpConfig(ctx, r, s, workDB)
		if err != nil || cfg == nil {
			return err
		}
		pki, err := newPKI(roleCert)
		if err != nil {
			return r.errorf("make certificates: %v", err)
		}
		const passphrase = "workload-passphrase"
		serverKey, err := pki.serverKeyEncrypted(passphrase)
		if err != nil {
			return r.errorf("encrypt the server key: %v", err)
		}
		paths := map[string]string{}
		for name, data := range map[string][]byte{"server.crt": pki.serverCert, "server.key": serverKey, "ca.crt": pki.caCert, "ca.crl": pki.crl} {
			paths[name] = filepath.Join(dir, name)
			if err := r.writeFile(ctx, paths[name], data); err != nil {
				return err
			}
		}
		settings := [][2]string{
			{"ssl", "on"},
			{"ssl_cert_file", paths["server.crt"]},
			{"ssl_key_file", paths["server.key"]},
			{"ssl_ca_file", paths["ca.crt"]},
			{"ssl_crl_file", paths["ca.crl"]},
			{"ssl_passphrase_command", "echo " + passphrase},
			{"ssl_passphrase_command_supports_reload", "on"},
			{"ssl_min_protocol_version", "TLSv1.2"},
		}
		if err := s.exec(ctx, `DROP ROLE IF EXISTS `+roleCert, `CREATE ROLE `+roleCert+` LOGIN`); err != nil {
			return err
		}
		if err := alterSystem(ctx, s, settings); err != nil {
			return err
		}
		defer func() {
			ctx := context.WithoutCancel(ctx)
			if alterSystem(ctx, s, resetSettings(settings)) == nil {
				r.reloadAndWait(ctx, s)
			}
		}()
		restore, err := r.editHBA(ctx, s, hbaEdit{hba: []string{
			`hostssl all ` + roleCert + ` 127.0.0.1/32 cert`,
			`hostnossl all ` + roleCert + ` 127.0.0.1/32 reject`,
		}})
		if err != nil {
			return err
		}
		defer restore()
		if on, err := s.setting(ctx, "ssl"); err != nil {
			return err
		} else if on != "on" {
			return r.errorf("ssl is %q after the reload; the server log says why it kept the old value", on)
		}
		connect := func(user string, certs []tls.Certificate) (*session, error) {
			c := cfg.Copy()
			c.User, c.Database = user, workDB
			c.TLSConfig = &tls.Config{InsecureSkipVerify: true, Certificates: certs, MinVersion: tls.VersionTLS12}
			c.Fallbacks = nil
			conn, err := pgx.ConnectConfig(ctx, c)
			if err != nil {
				return nil, r.errorf("connect over TLS as %s: %s", user, describe(err))
			}
			return &session{step: r.step, db: workDB, conn: conn}, nil
		}
		tlsSession, err := connect(cfg.User, nil)
		if err != nil {
			return err
		}
		defer tlsSession.close()
		used, err := tlsSession.bool(ctx, `SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`)
		if err != nil {
			return err
		}
		if !used {
			return r.errorf("pg_stat_ssl says the TLS session is not encrypted")
		}
		var out bytes.Buffer
		if _, err := tlsSession.conn.PgConn().CopyTo(ctx, &out, `COPY (SELECT g, md5(g::text) FROM generate_series(1, 50000) g) TO STDOUT`); err != nil {
			return tlsSession.fail("COPY ... TO STDOUT over TLS", err)
		}
		if err := tlsSession.exec(ctx, `SELECT version, cipher, bits FROM pg_stat_ssl`); err != nil {
			return err
		}
		client, err := tls.X509KeyPair(pki.clientCert, pki.clientKey)
		if err != nil {
			return r.errorf("load the client certificate: %v", err)
		}
		r.mark(LoginEvent("hostssl", "cert"))
		defer r.mark("")
		certSession, err := connect(roleCert, []tls.Certificate{client})
		if err != nil {
			return err
		}
		defer certSession.close()
		return certSession.exec(ctx, `SELECT current_user, client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()`)
	})
}

// pki holds a throwaway CA, a server certificate and a client certificate.
type pki struct {
	caCert, crl, serverCert, clientCert, clientKey []byte
	serverKey                                      *ecdsa.PrivateKey
}

func newPKI(clientCN string) (*pki, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pgseccomp workload CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caParsed, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caParsed, &key.PublicKey, caKey)
		if err != nil {
			return nil, nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), key, nil
	}
	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(24 * time.Hour),
	}, caParsed, caKey)
	if err != nil {
		return nil, err
	}
	p := &pki{
		caCert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		crl:    pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crlDER}),
	}
	if p.serverCert, p.serverKey, err = issue(2, "localhost", x509.ExtKeyUsageServerAuth); err != nil {
		return nil, err
	}
	cert, key, err := issue(3, clientCN, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	p.clientCert, p.clientKey = cert, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	return p, nil
}

// serverKeyEncrypted is the server key in PEM, encrypted with passphrase
// the way OpenSSL's traditional format does (what ssl_passphrase_command
// is for).
func (p *pki) serverKeyEncrypted(passphrase string) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(p.serverKey)
	if err != nil {
		return nil, err
	}
	//lint:ignore SA1019 OpenSSL reads this format; the key is a throwaway.
	block, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", der, []byte(passphrase), x509.PEMCipherAES256) //nolint:staticcheck
	if err != nil {
		return nil, fmt.Errorf("encrypt PEM: %w", err)
	}
	return pem.EncodeToMemory(block), nil
}
