package support

import (
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
)

// TestFailedStepLine: a login stopped after its code says why, in
// Russian — a prompt or max_age ESIA's authentication did not satisfy, or
// a code whose consent or link ended before the diary exchanged it — and
// the outcome of the second tells support what to do.
func TestFailedStepLine(t *testing.T) {
	for _, tc := range []struct{ detail, want string }{
		{`{"why":"prompt_or_max_age"}`, "prompt=login или max_age"},
		{`{"why":"consent_or_link_ended"}`, "дневник не получил токены: пока человек входил, согласие было отозвано"},
		{`{"why":"something_new"}`, "something_new"},
	} {
		lines := stepLines([]Event{{Step: "failed", At: time.Unix(0, 0), Detail: []byte(tc.detail)}}, time.UTC)
		if len(lines) != 1 || lines[0].Title != "Вход прерван" || !strings.Contains(lines[0].Detail, tc.want) {
			t.Errorf("%s: %+v", tc.detail, lines)
		}
	}
	for outcome, want := range map[string]string{
		login.ReasonCodeRefused: "Дневник не получил вход",
		store.OutcomeAbandoned:  "Вход не завершён",
		"issued":                "",
	} {
		got := strings.Join(outcomeAdvice(outcome), " ")
		if want == "" && got != "" || !strings.Contains(got, want) {
			t.Errorf("advice for %s = %q, want %q", outcome, got, want)
		}
	}
}
