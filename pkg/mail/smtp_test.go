package mail_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/diarybroker/broker/pkg/mail"
)

// session is an in-process SMTP server's session: it keeps the message
// and, with a password set, accepts AUTH PLAIN with it only.
type session struct {
	srv  *server
	user string
}

type server struct {
	password string
	got      chan string
	users    chan string
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error {
	if s.srv.password != "" && s.user == "" {
		return errors.New("auth required")
	}
	return nil
}
func (s *session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.srv.got <- string(b)
	return err
}
func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if pass != s.srv.password {
			return errors.New("bad password")
		}
		s.user = user
		s.srv.users <- user
		return nil
	}), nil
}

// selfSigned is a TLS certificate for 127.0.0.1 and the pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// start runs an SMTP server: STARTTLS offered when cfg is set and not
// implicit, TLS from the first byte when implicit.
func start(t *testing.T, cfg *tls.Config, implicit bool, password string) (*server, int) {
	t.Helper()
	s := &server{password: password, got: make(chan string, 4), users: make(chan string, 4)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{srv: s}, nil }))
	srv.Domain = "127.0.0.1"
	var l net.Listener
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if implicit {
		l = tls.NewListener(l, cfg)
	} else {
		srv.TLSConfig = cfg
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s, l.Addr().(*net.TCPAddr).Port
}

// TestSMTPModes: STARTTLS with AUTH PLAIN, implicit TLS and no TLS each
// deliver a UTF-8 message whose subject and body decode back; STARTTLS
// mode refuses a server that does not offer it, and a wrong password fails.
func TestSMTPModes(t *testing.T) {
	cert, pool := selfSigned(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	client := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		mode     string
		srvTLS   *tls.Config
		implicit bool
		password string
		sendPass string
		wantErr  string
	}{
		{"starttls with auth", mail.TLSStartTLS, cfg, false, "s3cret", "s3cret", ""},
		{"implicit tls", mail.TLSImplicit, cfg, true, "", "", ""},
		{"none", mail.TLSNone, nil, false, "", "", ""},
		{"starttls not offered", mail.TLSStartTLS, nil, false, "", "", "no STARTTLS"},
		{"wrong password", mail.TLSStartTLS, cfg, false, "s3cret", "wrong", "auth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, port := start(t, tc.srvTLS, tc.implicit, tc.password)
			m := &mail.SMTP{Host: "127.0.0.1", Port: port, From: "Дневник <noreply@diary.example>", TLS: tc.mode, TLSConfig: client,
				Timeout: 10 * time.Second}
			if tc.sendPass != "" {
				m.User, m.Password = "broker", tc.sendPass
			}
			if err := m.Check(); err != nil {
				t.Fatal(err)
			}
			err := m.Send(ctx, "parent@example.ru", "Нужно согласие: Алиса", "Здравствуйте!\r\nСсылка: https://id.example/parent?tenant=demo")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "parent@example.ru") {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			msg := <-srv.got
			if !strings.Contains(msg, "Subject: =?utf-8?b?") || !strings.Contains(msg, "Content-Transfer-Encoding: base64") ||
				!strings.Contains(msg, "To: <parent@example.ru>") {
				t.Fatalf("message: %s", msg)
			}
			if tc.password != "" && <-srv.users != "broker" {
				t.Fatal("no AUTH")
			}
		})
	}
	if err := (&mail.SMTP{Host: "h", Port: 25, From: "x", TLS: "ssl"}).Check(); err == nil {
		t.Fatal("bad settings accepted")
	}
}
