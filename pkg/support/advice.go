package support

import (
	"encoding/json"
	"fmt"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
)

// fieldNames are the Russian names of the compared fields.
var fieldNames = map[string]string{
	linking.FieldSNILS: "СНИЛС", linking.FieldBirthDate: "дата рождения", linking.FieldLastName: "фамилия",
	linking.FieldFirstName: "имя", linking.FieldPatronymic: "отчество", linking.FieldBirthCert: "свидетельство о рождении",
}

// differences say how a field differs, in Russian.
var differences = map[linking.Difference]string{
	linking.DiffOneDigit:      "отличается одной цифрой",
	linking.DiffOneLetter:     "отличается одной буквой",
	linking.DiffYear:          "другой год",
	linking.DiffSeries:        "другая серия",
	linking.DiffTransposition: "переставлены соседние символы",
	linking.DiffDayMonthSwap:  "перепутаны день и месяц",
	linking.DiffLookalike:     "латинская буква вместо похожей русской",
	linking.DiffYo:            "«ё» и «е»",
}

// suspensions say why a link is suspended, in Russian.
var suspensions = map[string]string{
	linking.SuspendSNILSChanged:     "СНИЛС в дневнике или на Госуслугах изменился и больше не совпадает",
	linking.SuspendBirthDateChanged: "дата рождения в дневнике или на Госуслугах изменилась и больше не совпадает",
	linking.SuspendBySupport:        "её приостановила поддержка",
	linking.SuspendByDiary:          "её приостановил дневник",
}

// adviceAbandoned explains an attempt the broker marked abandoned: the
// person went to ESIA and did not come back within the login time-out.
const adviceAbandoned = "Вход не завершён: человек ушёл на Госуслуги и не вернулся за отведённое время " +
	"(закрыл страницу, не подтвердил вход или отказался). Дневник ничего не получил; попросите войти ещё раз. " +
	"Если вход обрывается снова, узнайте, на каком шаге Госуслуг это происходит."

// adviceCodeRefused explains an attempt whose code the diary could not
// exchange: the consent or the link ended while the person logged in.
const adviceCodeRefused = "Дневник не получил вход: пока человек входил, согласие на обработку данных было отозвано " +
	"или привязка к записи приостановлена либо удалена. Если согласие дано снова или привязка восстановлена, попросите войти ещё раз."

// outcomeAdvice is what an attempt's outcome alone says to do: nothing,
// but for an abandoned login and a code the diary could not exchange.
func outcomeAdvice(outcome string) []string {
	switch outcome {
	case store.OutcomeAbandoned:
		return []string{adviceAbandoned}
	case login.ReasonCodeRefused:
		return []string{adviceCodeRefused}
	}
	return nil
}

// advise turns the matching step's explanation into what the school should
// check: for the most similar candidate, each field that differs.
func advise(detail json.RawMessage) []string {
	var d struct {
		Outcome    string              `json:"outcome"`
		Reason     string              `json:"reason"`
		Candidates []linking.Candidate `json:"candidates"`
	}
	if json.Unmarshal(detail, &d) != nil {
		return nil
	}
	var out []string
	switch d.Outcome {
	case "linked":
		return nil
	case "ambiguous":
		out = append(out, "В дневнике несколько записей одного человека с одной ролью: удалите или объедините лишние. "+
			"Записи одного человека в разных школах допустимы, если в каждой указаны СНИЛС и своя школа.")
	case "conflict":
		out = append(out, "Запись найдена, но часть данных противоречит Госуслугам: проверьте дату рождения и СНИЛС.")
	}
	if len(d.Candidates) == 0 {
		if d.Outcome == "not_found" {
			out = append(out, "В дневнике нет похожей записи: проверьте, внесён ли человек в дневник.")
		}
		return out
	}
	c := d.Candidates[0]
	if c.Link != nil && suspensions[c.Link.Reason] != "" {
		out = append(out, fmt.Sprintf("Привязка записи %s к Госуслугам приостановлена: %s.", c.ExternalID, suspensions[c.Link.Reason]))
	}
	for _, f := range c.Fields {
		if !f.Differs() && f.Result != linking.ResultMissingRoster {
			continue
		}
		name := fieldNames[f.Field]
		if name == "" {
			name = f.Field
		}
		switch {
		case f.Result == linking.ResultMissingRoster:
			out = append(out, fmt.Sprintf("Запись %s: в дневнике не заполнено поле «%s».", c.ExternalID, name))
		case differences[f.Difference] != "":
			out = append(out, fmt.Sprintf("Запись %s: %s в дневнике не совпадает с Госуслугами — %s.", c.ExternalID, name, differences[f.Difference]))
		default:
			out = append(out, fmt.Sprintf("Запись %s: %s в дневнике не совпадает с Госуслугами.", c.ExternalID, name))
		}
	}
	return out
}
