package esiasim_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
)

// getJSON GETs path and decodes a JSON object.
func (e *env) getJSON(path string, q url.Values, bearer string) (int, map[string]any) {
	e.t.Helper()
	resp := e.get(path, q, bearer)
	var m map[string]any
	if err := json.Unmarshal([]byte(body(e.t, resp)), &m); err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, m
}

func elements(t *testing.T, coll any) []any {
	t.Helper()
	m, ok := coll.(map[string]any)
	if !ok {
		t.Fatalf("not a collection: %v", coll)
	}
	if sf, _ := m["stateFacts"].([]any); len(sf) != 1 || sf[0] != "hasSize" {
		t.Errorf("stateFacts %v", m["stateFacts"])
	}
	el, _ := m["elements"].([]any)
	if int(m["size"].(float64)) != len(el) {
		t.Errorf("size %v, %d elements", m["size"], len(el))
	}
	return el
}

func embed(v string) url.Values { return url.Values{"embed": {v}} }

func TestPersonScopeFiltering(t *testing.T) {
	e := newEnv(t)
	const daniil = "1000100004"
	tests := []struct {
		scope   string
		present []string
		absent  []string
		docs    []string // document types expected with documents.elements
	}{
		{scope: "openid fullname", present: []string{"firstName", "lastName", "middleName", "trusted"}, absent: []string{"snils", "birthDate", "gender", "documents", "contacts"}},
		{scope: "openid snils", present: []string{"snils"}, absent: []string{"firstName", "birthDate"}},
		{scope: "openid birthdate gender", present: []string{"birthDate", "birthPlace", "gender"}, absent: []string{"snils"}},
		{scope: "openid birth_cert_doc", docs: []string{"RF_BRTH_CERT"}},
		{scope: "openid id_doc", docs: []string{"RF_PASSPORT"}},
		{scope: "openid id_doc birth_cert_doc mobile", docs: []string{"RF_PASSPORT", "RF_BRTH_CERT"}, present: []string{"contacts"}},
	}
	for _, tc := range tests {
		t.Run(tc.scope, func(t *testing.T) {
			tok := e.login(daniil, tc.scope).AccessToken
			status, p := e.getJSON("/rs/prns/"+daniil, embed("(contacts.elements,documents.elements,addresses.elements)"), tok)
			if status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			for _, f := range tc.present {
				if _, ok := p[f]; !ok {
					t.Errorf("%s missing", f)
				}
			}
			for _, f := range tc.absent {
				if _, ok := p[f]; ok {
					t.Errorf("%s present without its scope", f)
				}
			}
			if _, ok := p["addresses"]; ok {
				t.Error("addresses without the addresses scope")
			}
			if tc.docs != nil {
				var types []string
				for _, d := range elements(t, p["documents"]) {
					types = append(types, d.(map[string]any)["type"].(string))
				}
				if strings.Join(types, ",") != strings.Join(tc.docs, ",") {
					t.Errorf("document types %v, want %v", types, tc.docs)
				}
			}
		})
	}
}

func TestRESTAuthorization(t *testing.T) {
	e := newEnv(t)
	tok := e.login("1000100001", "openid fullname snils").AccessToken
	tests := []struct {
		name, path, bearer string
		status             int
	}{
		{"no token", "/rs/prns/1000100001", "", http.StatusUnauthorized},
		{"bogus token", "/rs/prns/1000100001", "abc", http.StatusUnauthorized},
		{"own record", "/rs/prns/1000100001", tok, http.StatusOK},
		{"another person", "/rs/prns/1000100002", tok, http.StatusForbidden},
		{"documents without a document scope", "/rs/prns/1000100001/docs", tok, http.StatusForbidden},
		{"contacts without a contact scope", "/rs/prns/1000100001/ctts", tok, http.StatusForbidden},
		{"addresses without the scope", "/rs/prns/1000100001/addrs", tok, http.StatusForbidden},
		{"kids without kid scopes", "/rs/prns/1000100001/kids", tok, http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.get(tc.path, nil, tc.bearer)
			body(t, resp)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
	t.Run("expired token", func(t *testing.T) {
		e.clock.Advance(3601 * time.Second)
		resp := e.get("/rs/prns/1000100001", nil, tok)
		body(t, resp)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

func TestEmbeddedAndLinked(t *testing.T) {
	const oid, scope = "1000100001", "openid fullname id_doc email mobile addresses"
	t.Run("embedded", func(t *testing.T) {
		e := newEnv(t)
		tok := e.login(oid, scope).AccessToken
		_, p := e.getJSON("/rs/prns/"+oid, embed("(contacts.elements,documents.elements,addresses.elements)"), tok)
		for _, c := range []string{"documents", "contacts", "addresses"} {
			for _, el := range elements(t, p[c]) {
				if _, ok := el.(map[string]any); !ok {
					t.Errorf("%s element %v not embedded", c, el)
				}
			}
		}
	})
	t.Run("linked, as asked", func(t *testing.T) {
		e := newEnv(t)
		tok := e.login(oid, scope).AccessToken
		_, p := e.getJSON("/rs/prns/"+oid, embed("(documents)"), tok)
		if _, ok := p["contacts"]; ok {
			t.Error("contacts not asked for")
		}
		els := elements(t, p["documents"])
		link, _ := els[0].(string)
		if !strings.HasPrefix(link, e.base+"/rs/prns/"+oid+"/docs/") {
			t.Fatalf("element %v is not a URL under the external base URL", els[0])
		}
		status, doc := e.getJSON(strings.TrimPrefix(link, e.base), nil, tok)
		if status != http.StatusOK || doc["type"] != "RF_PASSPORT" || doc["number"] == nil {
			t.Fatalf("linked document: %d %v", status, doc)
		}
	})
	t.Run("EmbedLinks ignores .elements", func(t *testing.T) {
		e := newEnv(t, func(c *esiasim.Config) { c.Embed = esiasim.EmbedLinks })
		tok := e.login(oid, scope).AccessToken
		_, p := e.getJSON("/rs/prns/"+oid, embed("(contacts.elements,documents.elements)"), tok)
		for _, c := range []string{"documents", "contacts"} {
			for _, el := range elements(t, p[c]) {
				if _, ok := el.(string); !ok {
					t.Errorf("%s element %v embedded", c, el)
				}
			}
		}
		_, docs := e.getJSON("/rs/prns/"+oid+"/docs", embed("(elements)"), tok)
		if _, ok := elements(t, docs)[0].(string); !ok {
			t.Error("collection endpoint embedded in EmbedLinks mode")
		}
	})
	t.Run("EmbedOmit leaves collections out", func(t *testing.T) {
		e := newEnv(t, func(c *esiasim.Config) { c.Embed = esiasim.EmbedOmit })
		tok := e.login(oid, scope).AccessToken
		_, p := e.getJSON("/rs/prns/"+oid, embed("(contacts.elements,documents.elements)"), tok)
		if p["documents"] != nil || p["contacts"] != nil {
			t.Error("collections present in EmbedOmit mode")
		}
		_, ctts := e.getJSON("/rs/prns/"+oid+"/ctts", embed("(elements)"), tok)
		if got := len(elements(t, ctts)); got != 2 {
			t.Errorf("%d contacts, want 2 (EML and MBT)", got)
		}
	})
	t.Run("email scope shows only EML", func(t *testing.T) {
		e := newEnv(t)
		tok := e.login(oid, "openid email").AccessToken
		_, ctts := e.getJSON("/rs/prns/"+oid+"/ctts", embed("(elements)"), tok)
		els := elements(t, ctts)
		if len(els) != 1 || els[0].(map[string]any)["type"] != "EML" {
			t.Fatalf("contacts %v", els)
		}
	})
}

func TestKids(t *testing.T) {
	const parent = "1000100002"
	const scope = "openid fullname kid_fullname kid_birthdate kid_snils kid_birth_cert_doc"
	t.Run("embedded with documents", func(t *testing.T) {
		e := newEnv(t)
		tok := e.login(parent, scope).AccessToken
		status, kids := e.getJSON("/rs/prns/"+parent+"/kids", embed("(elements)"), tok)
		if status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
		els := elements(t, kids)
		if len(els) != 2 {
			t.Fatalf("%d kids, want 2", len(els))
		}
		alisa := els[0].(map[string]any)
		if alisa["firstName"] != "Алиса" || alisa["snils"] != "163-527-840 77" || alisa["birthDate"] != "12.05.2016" {
			t.Errorf("kid %v", alisa)
		}
		if _, ok := alisa["gender"]; ok {
			t.Error("gender without kid_gender")
		}
		docs := elements(t, alisa["documents"])
		if d := docs[0].(map[string]any); d["type"] != "RF_BRTH_CERT" || d["series"] != "IV-МЮ" {
			t.Errorf("kid document %v", d)
		}
	})
	t.Run("linked kids and documents", func(t *testing.T) {
		e := newEnv(t)
		tok := e.login(parent, scope).AccessToken
		_, kids := e.getJSON("/rs/prns/"+parent+"/kids", nil, tok)
		link := elements(t, kids)[1].(string)
		status, kid := e.getJSON(strings.TrimPrefix(link, e.base), nil, tok)
		if status != http.StatusOK || kid["firstName"] != "Матвей" {
			t.Fatalf("kid %d %v", status, kid)
		}
		docLink := elements(t, kid["documents"])[0].(string)
		status, doc := e.getJSON(strings.TrimPrefix(docLink, e.base), nil, tok)
		if status != http.StatusOK || doc["type"] != "RF_BRTH_CERT" {
			t.Fatalf("kid doc %d %v", status, doc)
		}
	})
	t.Run("no kid documents without kid_birth_cert_doc", func(t *testing.T) {
		e := newEnv(t)
		tok := e.login(parent, "openid kid_fullname").AccessToken
		_, kids := e.getJSON("/rs/prns/"+parent+"/kids", embed("(elements)"), tok)
		for _, k := range elements(t, kids) {
			if _, ok := k.(map[string]any)["documents"]; ok {
				t.Error("kid documents without kid_birth_cert_doc")
			}
		}
		resp := e.get("/rs/prns/"+parent+"/kids/2000100001/docs", nil, tok)
		body(t, resp)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("kid docs status %d", resp.StatusCode)
		}
	})
	t.Run("person without kids", func(t *testing.T) {
		e := newEnv(t)
		tok := e.login("1000100003", scope).AccessToken
		_, kids := e.getJSON("/rs/prns/1000100003/kids", embed("(elements)"), tok)
		if len(elements(t, kids)) != 0 {
			t.Error("a child has kids")
		}
	})
}
