package support

import (
	"encoding/json"
	"strings"
)

// The e-mails to parents a consent request sent (consent.Notifier notes
// each on the child's login attempt as a "mail" step: kind, parent record,
// outcome — never the address).
var (
	mailKindTexts = map[string]string{
		"requested": "письмо о просьбе дать согласие",
		"reminder":  "напоминание о просьбе",
		// A resolved ticket's e-mail to the person who reported the login.
		"ticket_resolved": "письмо заявителю о том, что обращение решено",
	}
	mailOutcomeTexts = map[string]string{
		"sent":         "отправлено",
		"no_address":   "не отправлено: нет адреса электронной почты",
		"closed":       "не отправлено: просьба или обращение уже закрыты (согласие дано, срок истёк, обращение удалено)",
		"rate_limited": "не отправлено: на этот адрес сегодня ушло слишком много писем",
		"failed":       "не отправлено, будет повторено",
		"dead":         "не отправлено: попытки исчерпаны",
	}
)

func init() { pageStepTitles["mail"] = "Письмо" }

// mailLine says what a mail step did: «напоминание о просьбе родителю
// (запись p-0001): отправлено».
func mailLine(detail json.RawMessage) string {
	var d struct {
		Kind    string `json:"kind"`
		Parent  string `json:"parent"`
		Outcome string `json:"outcome"`
	}
	if json.Unmarshal(detail, &d) != nil {
		return ""
	}
	parts := []string{}
	kind := mailKindTexts[d.Kind]
	if kind == "" {
		kind = d.Kind
	}
	if d.Parent != "" {
		kind += " родителю (запись " + d.Parent + ")"
	}
	parts = append(parts, kind)
	if t := mailOutcomeTexts[d.Outcome]; t != "" {
		parts = append(parts, t)
	} else if d.Outcome != "" {
		parts = append(parts, d.Outcome)
	}
	return strings.Join(parts, ": ")
}
