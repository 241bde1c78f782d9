package support_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
	"github.com/diarybroker/broker/pkg/support"
)

// TestFileRoutes: a ticket goes to the schools of the records the
// attempt's events named (as the roster has them now, records gone
// skipped), to the tenant's queue without any; only the codes of failed
// logins of a tenant can have one, and one open ticket at a time.
func TestFileRoutes(t *testing.T) {
	ctx := context.Background()
	s := memory.New(nil)
	if err := s.CreateTenant(ctx, store.Tenant{ID: "t1", DisplayName: "Д", OperatorName: "О", OperatorAddress: "А",
		TimeZone: "Europe/Moscow", Consent: store.DefaultConsentPolicy()}); err != nil {
		t.Fatal(err)
	}
	person := func(id, school string) store.Person {
		return store.Person{ExternalID: id, Role: store.RoleStudent, LastName: "Иванов", FirstName: "Пётр", School: school,
			BirthDate: store.Date{Year: 2012, Month: 5, Day: 14}}
	}
	if err := s.UpsertPersons(ctx, "t1", []store.Person{person("a", "Школа А"), person("b", "Школа Б"), person("a2", "Школа А")}); err != nil {
		t.Fatal(err)
	}
	cands := func(ids ...string) json.RawMessage {
		var list []map[string]string
		for _, id := range ids {
			list = append(list, map[string]string{"record": id})
		}
		b, _ := json.Marshal(map[string]any{"candidates": list})
		return b
	}
	attempts := []struct {
		ref, tenant, outcome string
		details              []json.RawMessage
	}{
		{"AAAAAAAAA1", "t1", "ambiguous", []json.RawMessage{cands("a", "a2"), cands("b", "gone")}},
		{"AAAAAAAAA2", "t1", "not_found", nil},
		{"AAAAAAAAA3", "t1", "linked", []json.RawMessage{cands("a")}},
		{"AAAAAAAAA4", "", "not_found", nil}, // a staff sign-in: no tenant
		{"AAAAAAAAA5", "t1", "conflict", []json.RawMessage{cands("gone")}},
		// A login whose diary asked to link record b of Школа Б (a parameter
		// the person can set), compared with nothing else: the tenant's
		// queue, not Школа Б's.
		{"AAAAAAAAA6", "t1", "conflict", []json.RawMessage{json.RawMessage(`{"outcome":"conflict","manual_record":"b"}`)}},
		// The same with b among the compared candidates: Школа Б.
		{"AAAAAAAAA7", "t1", "conflict", []json.RawMessage{json.RawMessage(`{"outcome":"conflict","manual_record":"b","candidates":[{"record":"b"}]}`)}},
	}
	for _, a := range attempts {
		evs := a.details
		if evs == nil {
			evs = []json.RawMessage{nil}
		}
		for _, d := range evs {
			if err := s.RecordAttempt(ctx, store.Attempt{Ref: a.ref, TenantID: a.tenant, Outcome: a.outcome, Reason: a.outcome},
				store.AttemptEvent{Step: "link", At: time.Now(), Detail: d}); err != nil {
				t.Fatal(err)
			}
		}
	}
	desk := &support.Desk{Store: s}
	tests := []struct {
		ref     string
		schools []string
		err     error
	}{
		{"aaaaa-aaaa1", []string{"Школа А", "Школа Б"}, nil},
		{"AAAAAAAAA2", nil, nil},
		{"AAAAAAAAA5", nil, nil}, // its candidate left the roster: the tenant's queue
		{"AAAAAAAAA6", nil, nil}, // only a record the login asked for: the tenant's queue
		{"AAAAAAAAA7", []string{"Школа Б"}, nil},
		{"AAAAAAAAA3", nil, support.ErrNotFound},
		{"AAAAAAAAA4", nil, support.ErrNotFound},
		{"ZZZZZZZZZZ", nil, support.ErrNotFound},
		{"not a code", nil, support.ErrBadQuery},
		{"AAAAAAAAA1", nil, support.ErrTicketOpen},
	}
	for _, tc := range tests {
		k, err := desk.File(ctx, tc.ref, "", "")
		if !errors.Is(err, tc.err) {
			t.Fatalf("%s: error %v, want %v", tc.ref, err, tc.err)
		}
		if err == nil && !slices.Equal(k.Schools, tc.schools) {
			t.Fatalf("%s: schools %v, want %v", tc.ref, k.Schools, tc.schools)
		}
	}
	if _, err := desk.File(ctx, "AAAAAAAAA2", "не контакт", ""); !errors.Is(err, support.ErrBadContact) {
		t.Fatalf("bad contact: %v", err)
	}
}

func TestNormaliseAndMaskContact(t *testing.T) {
	tests := []struct {
		in, want, masked string
		bad              bool
	}{
		{"", "", "", false},
		{"  Ivanova@Mail.RU ", "ivanova@mail.ru", "i***@mail.ru", false},
		{"+7 (900) 123-45-67", "+79001234567", "+… ***-**-67", false},
		{"8 900 123 45 67", "89001234567", "***-**-67", false},
		{"ivanova@mail", "", "", true},
		{"@mail.ru", "", "", true},
		{"a b@mail.ru", "", "", true},
		{"12345", "", "", true},
		{"позвоните маме", "", "", true},
		{"+7 900 123-45-67 доб. 5", "", "", true},
		{"=HYPERLINK(1)", "", "", true},
	}
	for _, tc := range tests {
		got, err := support.NormaliseContact(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Fatalf("NormaliseContact(%q) = %q, %v", tc.in, got, err)
		}
		if m := support.MaskContact(got); m != tc.masked {
			t.Fatalf("MaskContact(%q) = %q, want %q", got, m, tc.masked)
		}
	}
}
