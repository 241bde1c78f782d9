package login_test

import (
	"encoding/json"
	"testing"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/oauth"
)

// TestResultBasisSurvivesAPause: a login paused after its consent step
// (a parent's notice: the server keeps the Result as JSON) still names the
// consent and the link its code rests on when it is taken back; before
// the consent step, or from a release that did not keep it, it names none.
func TestResultBasisSurvivesAPause(t *testing.T) {
	for _, tc := range []struct {
		name string
		res  login.Result
		want *oauth.Basis
	}{
		{"after the consent step", login.Result{Person: login.PersonInfo{OID: "1000100001"}, ConsentID: "consent-1"},
			&oauth.Basis{ESIAOID: "1000100001", ConsentID: "consent-1"}},
		{"before it", login.Result{Person: login.PersonInfo{OID: "1000100001"}}, nil},
		{"no person", login.Result{ConsentID: "consent-1"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := json.Marshal(tc.res)
			if err != nil {
				t.Fatal(err)
			}
			var back login.Result
			if err := json.Unmarshal(raw, &back); err != nil {
				t.Fatal(err)
			}
			got := back.Basis()
			if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
				t.Fatalf("Basis() after a pause = %+v, want %+v (JSON %s)", got, tc.want, raw)
			}
		})
	}
}
