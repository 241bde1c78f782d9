package oauth

import (
	"bytes"
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/ory/fosite"
)

// storedSample is a request as a login stores it, with the given claim
// strings in every place a string of a person's or a diary's reaches.
func storedSample(name, form string, at time.Time) storedRequest {
	sess := NewSession()
	sess.TenantID = "demo"
	sess.Claims = Claims{Subject: "sub-1", PersonID: "st-1", Roles: []string{"student", name}, Tenant: "demo",
		AgeGroup: "child", ESIATrust: "confirmed", Children: []string{form}, FamilyName: name, GivenName: form}
	sess.DefaultSession.Subject = "sub-1"
	sess.DefaultSession.Username = name
	sess.DefaultSession.Claims.Subject = "sub-1"
	sess.DefaultSession.Claims.AuthTime = at
	sess.DefaultSession.Claims.RequestedAt = at
	sess.DefaultSession.Claims.Extra = sess.Claims.Map(true)
	sess.DefaultSession.Claims.Extra["n"] = 12.5
	sess.DefaultSession.Claims.Extra["nested"] = map[string]any{"list": []any{name, 1.0, true, nil}}
	sess.DefaultSession.Headers.Extra = map[string]any{"kid": form}
	sess.SetExpiresAt(fosite.AccessToken, at.Add(time.Hour))
	sess.SetExpiresAt(fosite.RefreshToken, at.Add(720*time.Hour))
	sess.SetExpiresAt(fosite.AuthorizeCode, at.Add(5*time.Minute+123456789))
	return storedRequest{ID: "req-1", RequestedAt: at, ClientID: "diary-" + form,
		RequestedScope: []string{"openid", "profile"}, GrantedScope: []string{"openid"},
		RequestedAudience: []string{form}, Form: url.Values{"nonce": {name}, "state": {form, name}},
		Session: sess, Forms: map[string]url.Values{"pkce": {"code_challenge": {form}}}}
}

// TestStoredCodecIsEncodingJSON holds the stored request's codec to
// encoding/json: the same JSON value from the same request, the same
// request from the same bytes, read into the session it is given — so that rows
// written before the codec changed, and by either codec, read the same.
func TestStoredCodecIsEncodingJSON(t *testing.T) {
	moscow := time.FixedZone("MSK", 3*3600)
	tests := []struct {
		name, a, b string
		at         time.Time
	}{
		{"cyrillic", "Смирнова Елена", "Ёжикова-Иванова", time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)},
		{"markup and escapes", `<script>&"\'`, "line\nbreak\ttab\u2028\u2029", time.Date(2026, 1, 1, 0, 0, 0, 1, time.UTC)},
		{"control and invalid bytes", "\x01\x1f\x7f", "bad\xffutf8", time.Date(2030, 6, 30, 23, 59, 59, 999999999, moscow)},
		{"empty", "", "", time.Time{}},
		{"astral", "😀 \U0010FFFF", "a\u00a0b", time.Unix(1, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sr := storedSample(tt.a, tt.b, tt.at)
			got, want := assertEncodesAlike(t, sr)
			assertDecodesAlike(t, want)
			assertDecodesAlike(t, got)
			assertEncodesAlike(t, sr.Session.(*Session).Claims.Map(true))
		})
	}
}

// assertEncodesAlike encodes v with encoding/json and with the codec,
// checks that they agree (assertSameJSON) and returns both encodings.
func assertEncodesAlike(t *testing.T, v any) (got, want []byte) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if got, err = marshalStored(v); err != nil {
		t.Fatal(err)
	}
	assertSameJSON(t, got, want)
	return got, want
}

// assertSameJSON checks that got is the JSON text want is but for the
// spelling of escapes (encoding/json writes "\b" where the codec writes
// "\u0008"): encoding/json reads the same value from both, so brokers
// from before the codec read its rows, and the keys come in the same
// (sorted) order.
func assertSameJSON(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("the codec wrote invalid JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("encodings differ:\n got %s\nwant %s", got, want)
	}
	if len(got) == len(want) && !bytes.Equal(got, want) {
		t.Fatalf("encodings of one length differ (order?):\n got %s\nwant %s", got, want)
	}
}

// assertDecodesAlike decodes data with encoding/json and with the stored
// codec, each into a session of its own, and compares the two.
func assertDecodesAlike(t *testing.T, data []byte) {
	t.Helper()
	wantSess, gotSess := NewSession(), NewSession()
	want, got := storedRequest{Session: wantSess}, storedRequest{Session: gotSess}
	wantErr := json.Unmarshal(data, &want)
	gotErr := unmarshalStored(data, &got)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("encoding/json: %v; stored codec: %v", wantErr, gotErr)
	}
	if wantErr != nil {
		return
	}
	if got.Session != any(gotSess) {
		t.Fatal("the stored codec did not decode into the session it was given")
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decodings differ:\n got %#v\nwant %#v", got, want)
	}
}

// TestStoredCodecReadsOlderRows decodes a grant's stored request as
// encoding/json wrote it before the codec changed (a login's, from the
// memory store).
func TestStoredCodecReadsOlderRows(t *testing.T) {
	row := []byte(`{"id":"fba2eff5-294a-4736-8fe8-f72f921d3f84","requested_at":"2026-12-07T18:27:35.834516761Z","client_id":"demo-diary",` +
		`"requested_scope":["openid","profile"],"granted_scope":["openid","profile"],"form":{"grant_type":["authorization_code"]},` +
		`"session":{"id_token_claims":{"jti":"","iss":"","sub":"nw555","aud":null,"nonce":"","exp":"0001-01-01T00:00:00Z",` +
		`"iat":"0001-01-01T00:00:00Z","rat":"2026-12-07T18:27:35Z","auth_time":"2026-12-07T18:27:35Z","at_hash":"","acr":"","amr":null,` +
		`"c_hash":"","ext":{"age_group":"adult","esia_trust":"confirmed","family_name":"Смирнова","given_name":"Елена",` +
		`"middle_name":"Викторовна","name":"Смирнова Елена Викторовна","person_id":"t-0001","roles":["teacher"],"tenant":"demo"}},` +
		`"headers":{"extra":null},"expires_at":{"access_token":"2026-12-07T19:27:36Z","authorize_code":"2026-12-07T18:32:35.834200671Z",` +
		`"refresh_token":"2027-01-06T18:27:36Z"},"username":"","subject":"nw555","tenant_id":"demo","broker_claims":{"sub":"nw555",` +
		`"person_id":"t-0001","roles":["teacher"],"tenant":"demo","age_group":"adult","esia_trust":"confirmed","family_name":"Смирнова",` +
		`"given_name":"Елена","middle_name":"Викторовна"}}}`)
	assertDecodesAlike(t, row)
	sr := storedRequest{Session: NewSession()}
	if err := unmarshalStored(row, &sr); err != nil {
		t.Fatal(err)
	}
	s := sr.Session.(*Session)
	if s.Claims.FamilyName != "Смирнова" || s.DefaultSession.Claims.Extra["tenant"] != "demo" ||
		!s.GetExpiresAt(fosite.RefreshToken).Equal(time.Date(2027, 1, 6, 18, 27, 36, 0, time.UTC)) {
		t.Fatalf("decoded %+v", s)
	}
}

// FuzzStoredCodec checks the codec against encoding/json on requests
// carrying arbitrary strings where people's names and diaries' parameters
// go.
func FuzzStoredCodec(f *testing.F) {
	f.Add("Смирнова", "state-1", int64(1796630400))
	f.Add("<&>", "\u2028\x00", int64(0))
	f.Add("\xff\xfe", "😀", int64(-62135596800))
	f.Fuzz(func(t *testing.T, a, b string, unix int64) {
		sr := storedSample(a, b, time.Unix(unix%(1<<35), unix%1e9).UTC())
		if _, err := json.Marshal(sr); err != nil {
			t.Skip() // a time encoding/json cannot write either
		}
		got, want := assertEncodesAlike(t, sr)
		assertDecodesAlike(t, want)
		assertDecodesAlike(t, got)
	})
}
