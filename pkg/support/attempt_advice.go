package support

import (
	"fmt"
	"strings"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
)

// recordPlace names a record with its role, school and class: «запись
// s-0012 (ученик, МБОУ СОШ № 1, 11А класс)».
func recordPlace(id string, p store.Person) string {
	where := nonEmpty(roleTitle(p.Role), p.School, classTitle(p.Class))
	if len(where) == 0 {
		return "запись " + id
	}
	return "запись " + id + " (" + strings.Join(where, ", ") + ")"
}

// adviseAttempt says what to correct for the attempt's matching step, in
// which record, school and class: for the most similar candidate in
// scope, each field that differs or is missing in the diary. A candidate
// outside the scope is named as another school's, nothing more.
func adviseAttempt(x explanation, records map[string]store.Person) []string {
	var out []string
	switch x.Outcome {
	case string(linking.OutcomeLinked), "":
		return nil
	case string(linking.OutcomeAmbiguous):
		out = append(out, "В дневнике несколько записей одного человека с одной ролью: удалите или объедините лишние. "+
			"Записи одного человека в разных школах допустимы, если в каждой указаны СНИЛС и своя школа.")
	case string(linking.OutcomeConflict):
		out = append(out, "Запись найдена, но часть данных противоречит Госуслугам: проверьте дату рождения и СНИЛС.")
	}
	if x.Reason == linking.ReasonRole {
		out = append(out, "Дневник запросил вход с ролью, которой у человека в дневнике нет: проверьте роль записи.")
	}
	if len(x.Candidates) == 0 {
		if x.Outcome == string(linking.OutcomeNotFound) {
			out = append(out, "В дневнике нет похожей записи: проверьте, внесён ли человек в дневник, и его СНИЛС и дату рождения.")
		}
		return out
	}
	c := x.Candidates[0]
	rec, ok := records[c.ExternalID]
	if !ok {
		out = append(out, fmt.Sprintf("Самая похожая запись (%s) — не из ваших школ или удалена: обратитесь в поддержку электронного дневника.", c.ExternalID))
		// Then the most similar record of one's own schools, when the
		// login compared one: that one the school can fix.
		for _, next := range x.Candidates[1:] {
			if r, mine := records[next.ExternalID]; mine {
				c, rec, ok = next, r, true
				break
			}
		}
		if !ok {
			return out
		}
	}
	place := recordPlace(c.ExternalID, rec)
	if c.Link != nil && suspensions[c.Link.Reason] != "" {
		out = append(out, fmt.Sprintf("Привязка (%s) к Госуслугам приостановлена: %s.", place, suspensions[c.Link.Reason]))
	}
	for _, f := range c.Fields {
		name := fieldNames[f.Field]
		if name == "" {
			name = f.Field
		}
		switch {
		case f.Result == linking.ResultMissingRoster:
			out = append(out, fmt.Sprintf("Заполните в дневнике поле «%s» — %s: на Госуслугах оно есть, в дневнике пусто.", name, place))
		case f.Differs():
			how := differenceTitle(f.Difference)
			if f.At > 0 {
				how += fmt.Sprintf(", символ %d", f.At)
			}
			if how != "" {
				how = " (" + how + ")"
			}
			out = append(out, fmt.Sprintf("Исправьте в дневнике поле «%s» — %s: оно не совпадает с Госуслугами%s. Сверьте с документом человека.", name, place, how))
		}
	}
	return out
}
