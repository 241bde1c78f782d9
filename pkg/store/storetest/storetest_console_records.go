package storetest

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// testRecordConsoleScopes: every query of store.RecordConsole, for each
// scope over two tenants of two schools each, finds what is in the scope
// and answers for the rest exactly as for what does not exist — left out
// of a list, ErrNotFound for one record.
func testRecordConsoleScopes(t *testing.T, s store.Store) {
	for _, tn := range []string{"t1", "t2"} {
		mkTenant(t, s, tn)
		var ps []store.Person
		for _, p := range []struct{ id, school string }{{"p-a", "Школа А"}, {"p-b", "Школа Б"}} {
			rec := mkPerson(p.id, store.RoleStudent, "11111111111")
			rec.School = p.school
			rec.Index = store.PersonIndex{SNILS: "ix-snils", BirthCert: "ix-cert", BirthDate: "ix-bd", NameBirth: "ix-nb"}
			ps = append(ps, rec)
		}
		must(t, s.UpsertPersons(ctx(), tn, ps))
		for i, id := range []string{"p-a", "p-b"} {
			oid := tn + "-oid-" + id
			must(t, s.CreateLink(ctx(), store.Link{TenantID: tn, ESIAOID: oid, ExternalID: id, Role: store.RoleStudent, Rung: "snils",
				Status: store.LinkActive, CreatedAt: base, UpdatedAt: base}))
			data, _ := json.Marshal(map[string]string{"person_id": id})
			must(t, s.EnqueueEvent(ctx(), store.OutboxEvent{ID: tn + "-ev-" + id, TenantID: tn, Type: "link.suspended", Data: data,
				CreatedAt: base.Add(time.Duration(i) * time.Minute), Status: store.EventPending, NextAttemptAt: base}))
		}
	}
	// An event about no record, and one about a record that is not in the
	// roster, are never listed.
	must(t, s.EnqueueEvent(ctx(), store.OutboxEvent{ID: "t1-ev-none", TenantID: "t1", Type: "x", Data: json.RawMessage(`{}`),
		CreatedAt: base, Status: store.EventPending, NextAttemptAt: base}))

	keys := []string{"t1/p-a", "t1/p-b", "t2/p-a", "t2/p-b", "t1/nope", "t3/p-a"}
	scopes := []struct {
		name string
		sc   store.Scope
		in   []string // tenant/id in scope, in the order the store lists them
	}{
		{"school_admin of Школа А in t1", store.Scope{Role: store.StaffSchoolAdmin, TenantID: "t1", Schools: []string{"Школа А"}}, []string{"t1/p-a"}},
		{"school_admin of both schools in t2", store.Scope{Role: store.StaffSchoolAdmin, TenantID: "t2", Schools: []string{"Школа А", "Школа Б"}},
			[]string{"t2/p-a", "t2/p-b"}},
		{"tenant_support of t1", store.Scope{Role: store.StaffTenantSupport, TenantID: "t1"}, []string{"t1/p-a", "t1/p-b"}},
		{"operator", store.Scope{Role: store.StaffOperator}, []string{"t1/p-a", "t1/p-b", "t2/p-a", "t2/p-b"}},
		{"a school_admin without schools sees nothing", store.Scope{Role: store.StaffSchoolAdmin, TenantID: "t1"}, nil},
		{"an unknown role sees nothing", store.Scope{Role: "boss", TenantID: "t1"}, nil},
		{"tenant_support of a tenant that does not exist", store.Scope{Role: store.StaffTenantSupport, TenantID: "t3"}, nil},
		{"a scope no store keeps", store.Scope{Role: store.StaffSchoolAdmin, TenantID: "t1", Schools: []string{"\xff"}}, nil},
	}
	keyOf := func(p store.Person) string { return p.TenantID + "/" + p.ExternalID }
	for _, tc := range scopes {
		t.Run(tc.name, func(t *testing.T) {
			for _, q := range []struct {
				kind  store.IndexKind
				value string
			}{{store.IndexSNILS, "ix-snils"}, {store.IndexBirthCert, "ix-cert"}, {store.IndexBirthDate, "ix-bd"}, {store.IndexNameBirth, "ix-nb"}} {
				found, err := s.FindRecordsInScope(ctx(), tc.sc, q.kind, q.value, 0)
				must(t, err)
				var got []string
				for _, p := range found {
					if p.LastName != "Иванов" {
						t.Errorf("%s: a record without its personal data: %+v", q.kind, p)
					}
					got = append(got, keyOf(p))
				}
				if !slices.Equal(got, tc.in) {
					t.Errorf("find by %s = %v, want %v", q.kind, got, tc.in)
				}
				if none, err := s.FindRecordsInScope(ctx(), tc.sc, q.kind, "ix-other", 0); err != nil || len(none) != 0 {
					t.Errorf("find by %s of a value nobody has = %v, %v", q.kind, none, err)
				}
			}
			for _, id := range []string{"p-a", "p-b", "nope"} {
				found, err := s.RecordsByIDInScope(ctx(), tc.sc, id)
				must(t, err)
				var got, want []string
				for _, p := range found {
					got = append(got, keyOf(p))
				}
				for _, k := range tc.in {
					if strings.HasSuffix(k, "/"+id) {
						want = append(want, k)
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("records by id %s = %v, want %v", id, got, want)
				}
			}
			for _, key := range keys {
				tenant, id, _ := strings.Cut(key, "/")
				links, lerr := s.LinksInScope(ctx(), tc.sc, tenant, id)
				events, eerr := s.RecordEventsInScope(ctx(), tc.sc, tenant, id, 0)
				if slices.Contains(tc.in, key) {
					if lerr != nil || len(links) != 1 || links[0].ESIAOID != tenant+"-oid-"+id || links[0].TenantID != tenant {
						t.Errorf("links of %s = %+v, %v; want its one link", key, links, lerr)
					}
					if eerr != nil || len(events) != 1 || events[0].ID != tenant+"-ev-"+id {
						t.Errorf("events of %s = %+v, %v; want its one event", key, events, eerr)
					}
					continue
				}
				if !errors.Is(lerr, store.ErrNotFound) || links != nil {
					t.Errorf("links of %s = %+v, %v; want ErrNotFound", key, links, lerr)
				}
				if !errors.Is(eerr, store.ErrNotFound) || events != nil {
					t.Errorf("events of %s = %+v, %v; want ErrNotFound", key, events, eerr)
				}
			}
		})
	}

	operator := store.Scope{Role: store.StaffOperator}
	if one, err := s.FindRecordsInScope(ctx(), operator, store.IndexSNILS, "ix-snils", 1); err != nil || len(one) != 1 || keyOf(one[0]) != "t1/p-a" {
		t.Errorf("find with limit 1 = %+v, %v", one, err)
	}
	if _, err := s.FindRecordsInScope(ctx(), operator, "shoe_size", "ix-snils", 0); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("find by an unknown index: %v, want ErrInvalid", err)
	}
	// Keys no store keeps find nothing, without a database error.
	if found, err := s.FindRecordsInScope(ctx(), operator, store.IndexSNILS, "ix\x00", 0); err != nil || len(found) != 0 {
		t.Errorf("find by a value no store keeps = %v, %v", found, err)
	}
	if found, err := s.RecordsByIDInScope(ctx(), operator, "p-a\x00"); err != nil || len(found) != 0 {
		t.Errorf("records by an id no store keeps = %v, %v", found, err)
	}
	_, err := s.LinksInScope(ctx(), operator, "t1", "p-a\xff")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.RecordEventsInScope(ctx(), operator, "t1\x00", "p-a", 0)
	wantErr(t, err, store.ErrNotFound)

	// Newest first, and the limit holds.
	more, _ := json.Marshal(map[string]string{"person_id": "p-a"})
	must(t, s.EnqueueEvent(ctx(), store.OutboxEvent{ID: "t1-ev-p-a-2", TenantID: "t1", Type: "link.removed", Data: more,
		CreatedAt: base.Add(time.Hour), Status: store.EventPending, NextAttemptAt: base}))
	evs, err := s.RecordEventsInScope(ctx(), operator, "t1", "p-a", 0)
	if err != nil || len(evs) != 2 || evs[0].ID != "t1-ev-p-a-2" || evs[1].ID != "t1-ev-p-a" {
		t.Errorf("events of t1/p-a = %+v, %v", evs, err)
	}
	if evs, err := s.RecordEventsInScope(ctx(), operator, "t1", "p-a", 1); err != nil || len(evs) != 1 || evs[0].ID != "t1-ev-p-a-2" {
		t.Errorf("events with limit 1 = %+v, %v", evs, err)
	}
}
