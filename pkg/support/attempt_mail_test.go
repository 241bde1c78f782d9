package support

import (
	"strings"
	"testing"
	"time"
)

// TestMailStepLine: the attempt page says, in Russian, which e-mail went
// to which parent record, or to the reporter of its ticket, and how it
// ended (never an address).
func TestMailStepLine(t *testing.T) {
	for _, tc := range []struct{ detail, want string }{
		{`{"kind":"requested","parent":"p-0001","outcome":"sent"}`, "письмо о просьбе дать согласие родителю (запись p-0001): отправлено"},
		{`{"kind":"reminder","parent":"p-0002","outcome":"no_address"}`, "напоминание о просьбе родителю (запись p-0002): не отправлено: нет адреса"},
		{`{"kind":"ticket_resolved","outcome":"sent"}`, "письмо заявителю о том, что обращение решено: отправлено"},
		{`{"kind":"requested","parent":"p-3","outcome":"failed","error":"mail: connect: refused"}`, "будет повторено; ошибка: mail: connect: refused"},
	} {
		lines := stepLines([]Event{{Step: "mail", At: time.Unix(0, 0), Detail: []byte(tc.detail)}}, time.UTC)
		if len(lines) != 1 || lines[0].Title != "Письмо" || !strings.Contains(lines[0].Detail, tc.want) {
			t.Errorf("%s: %+v", tc.detail, lines)
		}
	}
}
