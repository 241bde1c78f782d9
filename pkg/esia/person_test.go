package esia_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/store"
)

var embedModes = []struct {
	name string
	mode esiasim.EmbedMode
}{
	{"embedded", esiasim.EmbedAsAsked},
	{"linked", esiasim.EmbedLinks},
	{"omitted", esiasim.EmbedOmit},
}

func TestPerson(t *testing.T) {
	for _, m := range embedModes {
		t.Run(m.name, func(t *testing.T) {
			w := newWorld(t, func(c *esiasim.Config) { c.Embed = m.mode })
			tok := w.login("1000100004") // Даниил, 15: passport and birth certificate
			p, err := w.cfg.Person(context.Background(), tok)
			if err != nil {
				t.Fatal(err)
			}
			if p.OID != "1000100004" || p.LastName != "Морозов" || p.FirstName != "Даниил" || p.MiddleName != "Игоревич" ||
				p.BirthDate != (store.Date{Year: 2011, Month: time.April, Day: 18}) || p.Gender != "M" ||
				p.SNILS != "158-263-704 83" || !p.Trusted || p.Citizenship != "RUS" || p.ETag == "" {
				t.Errorf("person %+v", p)
			}
			if len(p.Documents) != 2 {
				t.Fatalf("documents %+v", p.Documents)
			}
			bc := p.Documents[1]
			if bc.Type != "RF_BRTH_CERT" || bc.Series != "VI-ИК" || bc.Number != "604321" || bc.ActNo != "812" ||
				bc.IssueDate != (store.Date{Year: 2011, Month: time.April, Day: 27}) || bc.VrfStu != "VERIFIED" || bc.ID != "3000100005" {
				t.Errorf("birth certificate %+v", bc)
			}
			if len(p.Contacts) != 1 || p.Contacts[0].Type != "MBT" || p.Contacts[0].Value == "" {
				t.Errorf("contacts %+v", p.Contacts)
			}
			calls := w.observations()
			t.Logf("calls: %v", calls)
			if m.mode == esiasim.EmbedAsAsked && len(calls) != 2 {
				t.Errorf("embedded answer needed %d calls", len(calls))
			}
		})
	}
}

func TestPersonScopes(t *testing.T) {
	w := newWorld(t)
	w.cfg.Scopes = []string{"openid", "fullname"}
	p, err := w.cfg.Person(context.Background(), w.login("1000100001"))
	if err != nil {
		t.Fatal(err)
	}
	if p.LastName != "Смирнова" || p.SNILS != "" || !p.BirthDate.IsZero() || p.Documents != nil || p.Contacts != nil {
		t.Errorf("fields beyond the scopes: %+v", p)
	}
}

func TestPersonAddresses(t *testing.T) {
	w := newWorld(t)
	p, err := w.cfg.Person(context.Background(), w.login("1000100001"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Addresses) != 1 || p.Addresses[0].Type != "PRG" || p.Addresses[0].City != "Москва" || p.Addresses[0].Flat != "34" {
		t.Errorf("addresses %+v", p.Addresses)
	}
}

func TestKids(t *testing.T) {
	for _, m := range embedModes {
		t.Run(m.name, func(t *testing.T) {
			w := newWorld(t, func(c *esiasim.Config) { c.Embed = m.mode })
			kids, err := w.cfg.Kids(context.Background(), w.login("1000100006"))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, k := range kids {
				names = append(names, k.FirstName)
				if len(k.Documents) != 1 || k.Documents[0].Type != "RF_BRTH_CERT" || k.SNILS == "" || k.BirthDate.IsZero() {
					t.Errorf("kid %+v", k)
				}
			}
			if !slices.Equal(names, []string{"Даниил", "Софья", "Артём"}) {
				t.Errorf("kids %v", names)
			}
			if k := kids[2]; k.ID != "2000100005" || k.BirthDate != (store.Date{Year: 2017, Month: time.March, Day: 15}) || k.Gender != "M" {
				t.Errorf("Артём %+v", k)
			}
		})
	}
	t.Run("foreign birth certificate", func(t *testing.T) {
		w := newWorld(t)
		kids, err := w.cfg.Kids(context.Background(), w.login("1000100010"))
		if err != nil {
			t.Fatal(err)
		}
		if len(kids) != 1 || kids[0].Documents[0].Type != "FID_BRTH_CERT" || kids[0].Documents[0].Number != "0456789" {
			t.Errorf("kids %+v", kids)
		}
	})
	t.Run("no kids", func(t *testing.T) {
		w := newWorld(t)
		kids, err := w.cfg.Kids(context.Background(), w.login("1000100001"))
		if err != nil || len(kids) != 0 {
			t.Fatalf("kids %v, err %v", kids, err)
		}
	})
	t.Run("without kid scopes", func(t *testing.T) {
		w := newWorld(t)
		w.cfg.Scopes = []string{"openid", "fullname"}
		_, err := w.cfg.Kids(context.Background(), w.login("1000100002"))
		var e *esia.Error
		if !errors.As(err, &e) || e.HTTPStatus != http.StatusForbidden || !errors.Is(err, esia.ErrNoPermission) {
			t.Fatalf("err %v", err)
		}
	})
}

// fakeREST serves fixed JSON bodies by path (query ignored).
func fakeREST(t *testing.T, bodies map[string]string) (*esia.Config, *[]string) {
	t.Helper()
	var (
		mu    sync.Mutex
		paths []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		b, ok := bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer AT" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(b))
	}))
	t.Cleanup(srv.Close)
	return &esia.Config{
		BaseURL: srv.URL + "/gw", ClientID: clientID, CertificateHash: hash64, RedirectURL: redirect,
		Scopes: []string{"openid"}, Signer: &recordingSigner{},
	}, &paths
}

var fakeToken = &esia.Token{AccessToken: "AT", Identity: esia.Identity{OID: "42", Scopes: []string{"openid", "fullname", "id_doc"}}}

func TestPersonLinks(t *testing.T) {
	t.Run("element URL of another host goes through BaseURL", func(t *testing.T) {
		cfg, paths := fakeREST(t, map[string]string{
			"/gw/rs/prns/42":          `{"firstName":"Иван","documents":{"elements":["https://esia.gosuslugi.ru/rs/prns/42/docs/7"]}}`,
			"/gw/rs/prns/42/docs/7":   `{"id":7,"type":"RF_PASSPORT","series":"4509","number":"123456"}`,
			"/gw/rs/prns/42/ctts":     `{"elements":[]}`,
			"/gw/rs/prns/42/addrs":    `{"elements":[]}`,
			"/rs/prns/42/docs/7":      `{}`,
			"/evil/rs/prns/42/docs/7": `{}`,
		})
		p, err := cfg.Person(context.Background(), fakeToken)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Documents) != 1 || p.Documents[0].Number != "123456" {
			t.Fatalf("documents %+v", p.Documents)
		}
		if !slices.Equal(*paths, []string{"/gw/rs/prns/42", "/gw/rs/prns/42/docs/7"}) {
			t.Fatalf("paths %v", *paths)
		}
	})
	rejects := map[string]string{
		"another person's element": `{"documents":{"elements":["https://esia.gosuslugi.ru/rs/prns/43/docs/7"]}}`,
		"path traversal":           `{"documents":{"elements":["https://esia.gosuslugi.ru/rs/prns/42/../43/docs/7"]}}`,
		"element neither":          `{"documents":{"elements":[7]}}`,
		"bad birth date":           `{"birthDate":"31.02.2010","snils":"112-233-445 95"}`,
		"not an object":            `["x"]`,
	}
	for name, body := range rejects {
		t.Run(name, func(t *testing.T) {
			cfg, _ := fakeREST(t, map[string]string{"/gw/rs/prns/42": body})
			_, err := cfg.Person(context.Background(), fakeToken)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, pii := range []string{"31.02.2010", "112-233-445", "/43/"} {
				if strings.Contains(err.Error(), pii) {
					t.Errorf("error %q carries %q", err, pii)
				}
			}
		})
	}
	t.Run("token without oid", func(t *testing.T) {
		cfg, _ := fakeREST(t, nil)
		if _, err := cfg.Person(context.Background(), &esia.Token{AccessToken: "AT", Identity: esia.Identity{OID: "../x"}}); err == nil {
			t.Fatal("accepted")
		}
	})
}
