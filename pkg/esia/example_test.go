package esia_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/esia/esiasim"
)

// Example shows a whole login: the authorization URL, the callback, the code
// exchange and the person's record, against the ESIA simulator.
func Example() {
	ctx := context.Background()

	// The ESIA simulator stands in for ESIA and knows our system. ESIA
	// takes only GOST R 34.10-2012 client signatures; its test environment
	// signs tokens with GOST too.
	key, certDER, err := esiasim.SelfSignedGOST("DIARY01", time.Now())
	if err != nil {
		panic(err)
	}
	tokenKey, err := esiasim.NewGOSTSigner("ESIA simulator", time.Now())
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	sim, err := esiasim.New(esiasim.Config{
		BaseURL:     srv.URL,
		Clients:     []esiasim.Client{{ID: "DIARY01", RedirectURIs: []string{"https://diary.example/esia/callback"}, Certificate: certDER}},
		TokenSigner: tokenKey,
	})
	if err != nil {
		panic(err)
	}
	mux.Handle("/", sim)
	trusted, err := esia.ParseKeySet(sim.CertificatesPEM())
	if err != nil {
		panic(err)
	}

	cfg := &esia.Config{
		BaseURL:         srv.URL,
		ClientID:        "DIARY01",
		CertificateHash: sim.CertHash(certDER),
		RedirectURL:     "https://diary.example/esia/callback",
		Scopes:          []string{"openid", "fullname", "birthdate", "snils"},
		Signer:          esia.GOSTSigner{Key: key},
		Issuer:          sim.Issuer(),
		Keys:            trusted,
	}

	// 1. Redirect the browser to ESIA with a fresh state kept in the session.
	state, err := esia.NewState()
	if err != nil {
		panic(err)
	}
	authURL, err := cfg.AuthURL(ctx, state, url.Values{"sim_person": {"1000100003"}})
	if err != nil {
		panic(err)
	}

	// 2. ESIA redirects back to the callback (here we follow by hand).
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(authURL)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	callback, _ := url.Parse(resp.Header.Get("Location"))
	q := callback.Query()
	if err := esia.ParseCallbackError(q); err != nil {
		fmt.Println(esia.UserMessage(err))
		return
	}
	if q.Get("state") != state {
		fmt.Println("state mismatch")
		return
	}

	// 3. Exchange the code at once (it lives 240 s and is single-use).
	tok, err := cfg.Exchange(ctx, q.Get("code"))
	if err != nil {
		fmt.Println(esia.UserMessage(err))
		return
	}
	fmt.Println(tok.Identity.OID, tok.Identity.Level, tok.Identity.Trusted)

	// 4. Read the person's record.
	p, err := cfg.Person(ctx, tok)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.LastName, p.FirstName, p.BirthDate, p.SNILS)
	// Output:
	// 1000100003 KD false
	// Кузнецова Алиса 2016-05-12 163-527-840 77
}
