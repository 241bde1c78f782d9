package linking_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
)

// TestPreviewChangesNothing: Preview answers what the next login would —
// not found before the roster is fixed, linked by SNILS after, a linked
// person's link suspended when the roster's SNILS changed, a role the
// records lack — and creates, suspends or reactivates no link.
func TestPreviewChangesNothing(t *testing.T) {
	ctx := context.Background()
	e := newLadderEnv(t, false)
	const school = "Школа № 5"
	e.roster(t, row("s1", "student", "Павлов", "Игорь", "2012-09-21", "104-527-893 44", school),
		row("t1", "teacher", "Смирнова", "Елена", "1985-03-14", "112-233-401 83", school))
	pavlov := esiaPerson("oid-p", "Павлов", "Игорь", "2012-09-21", "104-517-893 44")
	smirnova := esiaPerson("oid-s", "Смирнова", "Елена", "1985-03-14", "112-233-401 83")
	if res := e.login(t, smirnova, ""); res.Outcome != linking.OutcomeLinked {
		t.Fatalf("Смирнова's login: %+v", res)
	}
	before := func() map[string][]store.Link {
		return map[string][]store.Link{"s1": e.links(t, "s1"), "t1": e.links(t, "t1")}
	}
	preview := func(p linking.Person, role store.Role, record string) linking.Result {
		t.Helper()
		was := before()
		res, err := e.ladder.Preview(ctx, e.tenant, p, role, record)
		if err != nil {
			t.Fatal(err)
		}
		if now := before(); !reflect.DeepEqual(now, was) {
			t.Fatalf("Preview changed the links: %+v → %+v", was, now)
		}
		return res
	}

	if res := preview(pavlov, "", ""); res.Outcome != linking.OutcomeNotFound || res.Reason != linking.ReasonNoRule || len(res.Candidates) != 1 {
		t.Fatalf("before the fix: %+v", res)
	}
	e.roster(t, row("s1", "student", "Павлов", "Игорь", "2012-09-21", "104-517-893 44", school),
		row("t1", "teacher", "Смирнова", "Елена", "1985-03-14", "112-233-401 83", school))
	res := preview(pavlov, "", "")
	if res.Outcome != linking.OutcomeLinked || res.Rung != linking.RungSNILS || len(res.Records) != 1 || res.Records[0].ExternalID != "s1" {
		t.Fatalf("after the fix: %+v", res)
	}
	if len(e.links(t, "s1")) != 0 {
		t.Fatal("Preview linked the record")
	}
	if res := preview(pavlov, store.RoleTeacher, ""); res.Outcome != linking.OutcomeNotFound || res.Reason != linking.ReasonRole {
		t.Fatalf("a role the records lack: %+v", res)
	}
	if res := preview(pavlov, "", "s1"); res.Outcome != linking.OutcomeLinked || res.Rung != linking.RungSNILS {
		t.Fatalf("the record the diary named: %+v", res)
	}

	// Смирнова's link was suspended because her SNILS had changed, and
	// the data agree again: her next login would bring it back (rung 1);
	// the preview says so and leaves it suspended.
	ls := e.links(t, "t1")
	if len(ls) != 1 {
		t.Fatalf("Смирнова's links: %+v", ls)
	}
	ln := ls[0]
	ln.Status, ln.Reason = store.LinkSuspended, linking.SuspendSNILSChanged
	if err := e.st.UpdateLink(ctx, ln); err != nil {
		t.Fatal(err)
	}
	res = preview(smirnova, "", "")
	if res.Outcome != linking.OutcomeLinked || res.Rung != linking.RungLink {
		t.Fatalf("a suspended link whose data agree again: %+v", res)
	}
	if ls := e.links(t, "t1"); ls[0].Status != store.LinkSuspended {
		t.Fatalf("Preview reactivated the link: %+v", ls[0])
	}
	// The login itself does reactivate it: the preview told the truth.
	if res := e.login(t, smirnova, ""); res.Rung != linking.RungLink || e.links(t, "t1")[0].Status != store.LinkActive {
		t.Fatalf("the login after the preview: %+v %+v", res, e.links(t, "t1"))
	}
}

// TestEncodePersonRoundTrip: what the login keeps decodes to the same
// person.
func TestEncodePersonRoundTrip(t *testing.T) {
	p := esiaPerson("oid-1", "Павлов", "Игорь", "2012-09-21", "104-517-893 44")
	p.Identity.Name.Patronymic = "Сергеевич"
	p.BirthCerts = []linking.BirthCert{{Type: linking.BirthCertRF, Series: "IV-МЮ", Number: "512345"}}
	b, err := linking.EncodePerson(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := linking.DecodePerson(b)
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("round trip: %+v %v, want %+v", got, err, p)
	}
	if _, err := linking.DecodePerson([]byte(`{"birth_date":"2012-13-40"}`)); err == nil {
		t.Fatal("an impossible birth date decoded")
	}
}
