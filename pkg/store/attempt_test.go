package store_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/diarybroker/broker/pkg/store"
)

func TestRecordsNamedIn(t *testing.T) {
	tests := []struct {
		name, detail string
		want         []string
	}{
		{"none", ``, nil},
		{"not an object", `[{"record":"a"}]`, nil},
		{"not JSON", `{"candidates":`, nil},
		{"no records", `{"outcome":"linked","candidates":[]}`, nil},
		{"candidates, sorted, once", `{"candidates":[{"record":"b","fields":[]},{"record":"a"},{"record":"b"},{"record":""}]}`, []string{"a", "b"}},
		{"manual record and suspended links", `{"manual_record":"m","suspended_links":[{"record":"s","reason":"snils_changed"}],"candidates":null}`, []string{"m", "s"}},
		{"members of the wrong shape", `{"candidates":"x","manual_record":"m","suspended_links":[1]}`, []string{"m"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := store.RecordsNamedIn(json.RawMessage(tc.detail)); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("RecordsNamedIn(%s) = %q, want %q", tc.detail, got, tc.want)
			}
		})
	}
}
