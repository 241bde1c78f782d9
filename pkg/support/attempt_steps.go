package support

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
)

// The attempt page's steps in Russian.
var (
	pageStepTitles = map[string]string{
		"authorize": "Дневник отправил человека на вход через Госуслуги",
		"esia":      "Госуслуги ответили",
		"link":      "Поиск записи в дневнике",
		"consent":   "Согласие на обработку данных",
		"issued":    "Дневник получил вход",
		"failed":    "Вход прерван",
		"role":      "Человек выбрал роль",
		"abandoned": "Вход брошен: человек не вернулся с Госуслуг",
		"staff":     "Вход в консоль поддержки",
		"parent":    "Вход на страницу согласий родителя",
	}
	outcomeTexts = map[string]string{
		string(linking.OutcomeLinked):    "запись найдена",
		string(linking.OutcomeNotFound):  "запись не найдена",
		string(linking.OutcomeAmbiguous): "найдено несколько подходящих записей",
		string(linking.OutcomeConflict):  "запись найдена, но данные противоречат Госуслугам",
	}
	rungTexts = map[string]string{
		linking.RungLink:      "по уже существующей привязке",
		linking.RungSNILS:     "по СНИЛС и дате рождения",
		linking.RungBirthCert: "по свидетельству о рождении и дате рождения",
		linking.RungName:      "по ФИО и дате рождения",
		linking.RungManual:    "запись, которую назвал дневник",
	}
	reasonTexts = map[string]string{
		linking.ReasonNoCandidate:     "в дневнике нет похожей записи",
		linking.ReasonNoRule:          "похожие записи есть, но ни одно правило сопоставления не подошло",
		linking.ReasonBirthDateDiffer: "совпал документ, но отличается дата рождения",
		linking.ReasonSNILSDiffers:    "совпали другие данные, но СНИЛС отличается",
		linking.ReasonDuplicate:       "в дневнике несколько записей этого человека с одной ролью",
		linking.ReasonRole:            "нет записи с ролью, которую запросил дневник",
		linking.ReasonNoIdentifiers:   "Госуслуги не передали ни СНИЛС, ни свидетельство, ни дату рождения",
		linking.ReasonLinkSuspended:   "привязка к этой записи приостановлена",
	}
	// whyTexts say why a login stopped after its code (the "failed" step).
	whyTexts = map[string]string{
		"prompt_or_max_age": "вход на Госуслугах старше, чем разрешает запрос дневника (prompt=login или max_age)",
		login.ReasonCodeRefused: "дневник не получил токены: пока человек входил, согласие было отозвано " +
			"или привязка к записи приостановлена либо удалена",
	}
	decisionTexts = map[string]string{
		"self_consent_asked": "человеку показан текст согласия",
		"text_changed":       "текст согласия изменился, показан заново",
		"declined":           "человек отказался дать согласие",
	}
	documentTitles = map[string]string{
		"RF_PASSPORT":   "паспорт РФ",
		"RF_BRTH_CERT":  "свидетельство о рождении РФ",
		"FID_BRTH_CERT": "иностранное свидетельство о рождении",
		"OLD_BRTH_CERT": "свидетельство о рождении старого образца",
		"FID_DOC":       "иностранный документ",
		"MLTR_ID":       "военный билет",
	}
)

// timeText is a moment in the tenant's zone: «07.12.2026 10:15:03 MSK».
func timeText(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("02.01.2006 15:04:05 MST")
}

// stepLines are the attempt's steps in time order, in Russian.
func stepLines(events []Event, loc *time.Location) []StepLine {
	out := make([]StepLine, 0, len(events))
	for _, ev := range events {
		title := pageStepTitles[ev.Step]
		if title == "" {
			title = ev.Step
		}
		out = append(out, StepLine{At: ev.At, When: timeText(ev.At, loc), Title: title, Detail: stepText(ev)})
	}
	return out
}

// stepText is what a step's detail says, in Russian.
func stepText(ev Event) string {
	var d struct {
		Level     string   `json:"level"`
		Trusted   *bool    `json:"trusted"`
		HasSNILS  *bool    `json:"has_snils"`
		Documents []string `json:"documents"`
		Error     string   `json:"error"`
		Purpose   string   `json:"purpose"`
		Decision  string   `json:"decision"`
		Role      string   `json:"role"`
		Why       string   `json:"why"`
		explanation
	}
	if len(ev.Detail) == 0 || json.Unmarshal(ev.Detail, &d) != nil {
		return ""
	}
	var parts []string
	switch ev.Step {
	case "esia":
		if d.Trusted != nil {
			parts = append(parts, map[bool]string{true: "подтверждённая учётная запись", false: "учётная запись не подтверждена"}[*d.Trusted])
		}
		if d.Level != "" {
			parts = append(parts, "уровень доверия "+d.Level)
		}
		if d.HasSNILS != nil {
			parts = append(parts, map[bool]string{true: "СНИЛС указан", false: "СНИЛС не указан"}[*d.HasSNILS])
		}
		if len(d.Documents) == 0 {
			parts = append(parts, "документов нет")
		} else {
			var docs []string
			for _, t := range d.Documents {
				if n := documentTitles[t]; n != "" {
					docs = append(docs, n)
				} else {
					docs = append(docs, t)
				}
			}
			parts = append(parts, "документы: "+strings.Join(docs, ", "))
		}
	case "link":
		if m := matchingLine(d.explanation); m != "" {
			parts = append(parts, m)
		}
		if n := len(d.Candidates); n > 0 {
			parts = append(parts, "сравнено записей: "+strconv.Itoa(n))
		}
	case "consent":
		if t := decisionTexts[d.Decision]; t != "" {
			parts = append(parts, t)
		} else if d.Decision != "" {
			parts = append(parts, d.Decision)
		}
	case "mail":
		parts = append(parts, mailLine(ev.Detail))
	case "role":
		if d.Role != "" {
			parts = append(parts, roleTitle(store.Role(d.Role)))
		}
	case "failed":
		if t := whyTexts[d.Why]; t != "" {
			parts = append(parts, t)
		} else if d.Why != "" {
			parts = append(parts, d.Why)
		}
	}
	if d.Error != "" {
		parts = append(parts, "ошибка: "+d.Error)
	}
	return strings.Join(parts, "; ")
}

// matchingLine says what the matching step found: «запись не найдена —
// похожие записи есть, но …», «запись найдена по СНИЛС и дате рождения».
func matchingLine(x explanation) string {
	if x.Outcome == "" {
		return ""
	}
	t := outcomeTexts[x.Outcome]
	if t == "" {
		t = x.Outcome
	}
	if r := rungTexts[x.Rung]; r != "" {
		t += " " + r
	}
	if r := reasonTexts[x.Reason]; r != "" {
		t += " — " + r
	} else if x.Reason != "" {
		t += " — " + login.MessageFor(x.Reason).Title
	}
	return t
}
