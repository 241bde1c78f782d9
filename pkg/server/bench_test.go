package server_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/sessions/sessionstest"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// benchBackends are the two ways to run the broker: the embedded default
// and PostgreSQL + Redis (what serve uses), both with the simulator.
var benchBackends = []struct {
	name string
	edit func(b *testing.B) func(*server.Settings)
}{
	{"memory", func(*testing.B) func(*server.Settings) { return nil }},
	{"postgres+redis", func(b *testing.B) func(*server.Settings) {
		db := pgtest.NewDatabase(b)
		redis := sessionstest.NewRedis(b)
		return func(s *server.Settings) {
			s.DatabaseURL, s.RedisURL, s.RedisPrefix = db+os.Getenv("BENCH_DB_OPTIONS"), sessionstest.RedisURL(), redis.Prefix()
			s.KEK = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
		}
	}},
}

// queries counts the statements the PostgreSQL store sent, if it is one.
func queries(b *broker) int64 {
	if pg, ok := b.comp.Store.(*postgres.Store); ok {
		return pg.Queries()
	}
	return 0
}

// codeFor runs the browser part of a login (diary → broker → simulator →
// broker → diary) and returns the authorization code.
func codeFor(tb testing.TB, client *http.Client, d *diary, oid string) string {
	resp, err := client.Get(d.authURL(oauth2.SetAuthURLParam("sim_person", oid)))
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		tb.Fatalf("login did not reach the diary: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

func benchClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	// A browser's cookie jar: the broker binds each login to the browser
	// that began it with a cookie of its own (parallel logins share it).
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: tr, Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), diaryRedirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// BenchmarkLoginRoundTrip is one full login as a diary sees it: the
// browser's redirects through the broker and ESIA (two GOST signatures, two
// GOST token verifications), the code exchange and the ID token check.
// It reports the PostgreSQL statements per login (queries/op).
func BenchmarkLoginRoundTrip(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			br := startBroker(b, true, be.edit(b))
			grantDirect(b, br, "t-0001", store.ConsentSelf)
			ctx := context.Background()
			p, err := oidc.NewProvider(ctx, br.URL)
			if err != nil {
				b.Fatal(err)
			}
			verifier := p.Verifier(&oidc.Config{ClientID: server.DevClientID})
			client := benchClient()
			ctx = context.WithValue(ctx, oauth2.HTTPClient, client)
			start := queries(br)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d := newDiary(br)
				code := codeFor(b, client, d, oidTeacher)
				tok, err := d.cfg.Exchange(ctx, code, oauth2.VerifierOption(d.verifier))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := verifier.Verify(ctx, tok.Extra("id_token").(string)); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if q := queries(br) - start; q > 0 {
				b.ReportMetric(float64(q)/float64(b.N), "queries/op")
			}
		})
	}
}

// BenchmarkTokenExchange measures POST /oauth2/token with
// grant_type=authorization_code from 64 concurrent diaries; the codes are
// made beforehand, outside the timer.
func BenchmarkTokenExchange(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			br := startBroker(b, true, be.edit(b))
			grantDirect(b, br, "t-0001", store.ConsentSelf)
			client := benchClient()
			ctx := context.WithValue(context.Background(), oauth2.HTTPClient, client)
			type pending struct {
				d    *diary
				code string
			}
			codes := make(chan pending, b.N)
			b.StopTimer()
			for i := 0; i < b.N; i++ {
				d := newDiary(br)
				codes <- pending{d, codeFor(b, client, d, oidTeacher)}
			}
			close(codes)
			start := queries(br)
			b.SetParallelism(32)
			b.StartTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					p := <-codes
					if _, err := p.d.cfg.Exchange(ctx, p.code, oauth2.VerifierOption(p.d.verifier)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			if q := queries(br) - start; q > 0 {
				b.ReportMetric(float64(q)/float64(b.N), "queries/op")
			}
		})
	}
}

// BenchmarkTokenRefresh measures POST /oauth2/token with
// grant_type=refresh_token (rotation) from 64 concurrent diaries.
func BenchmarkTokenRefresh(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			br := startBroker(b, true, be.edit(b))
			grantDirect(b, br, "t-0001", store.ConsentSelf)
			client := benchClient()
			ctx := context.WithValue(context.Background(), oauth2.HTTPClient, client)
			// One grant per goroutine, made before the timer and the
			// statement count start, so that queries/op is the refresh's.
			const parallelism = 32
			grants := make(chan *oauth2.Token, parallelism*runtime.GOMAXPROCS(0))
			for range cap(grants) {
				d := newDiary(br)
				tok, err := d.cfg.Exchange(ctx, codeFor(b, client, d, oidTeacher), oauth2.VerifierOption(d.verifier))
				if err != nil {
					b.Fatal(err)
				}
				grants <- tok
			}
			start := queries(br)
			b.SetParallelism(parallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				tok := <-grants
				for pb.Next() {
					form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
					req, _ := http.NewRequest(http.MethodPost, br.URL+"/oauth2/token", strings.NewReader(form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.SetBasicAuth(server.DevClientID, server.DevClientSecret)
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					var out struct {
						RefreshToken string `json:"refresh_token"`
					}
					err = jsonDecode(resp, &out)
					if err != nil || out.RefreshToken == "" {
						b.Errorf("refresh: %d %v", resp.StatusCode, err)
						return
					}
					tok.RefreshToken = out.RefreshToken
				}
			})
			b.StopTimer()
			if q := queries(br) - start; q > 0 {
				b.ReportMetric(float64(q)/float64(b.N), "queries/op")
			}
		})
	}
}
