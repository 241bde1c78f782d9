package support

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
)

// Report writes the support desk's explanations as text, in Russian, for
// the operator's command line (`broker support`): the same steps,
// field-by-field comparison and advice the console shows. Values are
// masked, except those of the records in Full, which the caller got from
// Operator.Unmask (and so audited).
type Report struct {
	// Location is the time zone times are shown in (the tenant's).
	Location *time.Location
	// Records are the candidate records by external id, for their school
	// and class; Full holds those to be shown unmasked.
	Records map[string]store.Person
	Full    map[string]bool
}

var resultTitles = map[linking.FieldResult]string{
	linking.ResultEqual:           "совпадает",
	linking.ResultEqualNormalised: "совпадает после приведения к одному написанию",
	linking.ResultDifferent:       "отличается",
	linking.ResultMissingRoster:   "не заполнено в дневнике",
	linking.ResultMissingESIA:     "нет на Госуслугах",
	linking.ResultMissingBoth:     "нет ни в дневнике, ни на Госуслугах",
}

var stepTitles = map[string]string{
	"authorize": "дневник отправил человека на вход", "esia": "Госуслуги ответили", "esia_callback": "Госуслуги вернули человека",
	"link": "поиск записи в дневнике", "consent": "согласие", "issued": "дневник получил вход", "failed": "вход прерван",
	"staff": "вход в консоль поддержки", "role": "выбор роли",
}

func (r Report) when(t time.Time) string {
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("02.01.2006 15:04:05")
}

// WriteAttempt writes an attempt: what it was, its steps in time order,
// the candidates compared field by field, and the advice.
func (r Report) WriteAttempt(w io.Writer, v *AttemptView) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "Попытка входа %s\n", v.Ref)
	tenant := v.Tenant
	if tenant == "" {
		tenant = "—"
	}
	fmt.Fprintf(b, "  дневник: %s, клиент: %s\n", tenant, v.Client)
	fmt.Fprintf(b, "  начата: %s, изменена: %s\n", r.when(v.CreatedAt), r.when(v.UpdatedAt))
	outcome := v.Outcome
	if v.Reason != "" {
		outcome = login.MessageFor(v.Reason).Title + " (" + v.Outcome + ")"
	}
	fmt.Fprintf(b, "  итог: %s\n", outcome)
	fmt.Fprintf(b, "\nШаги:\n")
	for _, ev := range v.Events {
		title := stepTitles[ev.Step]
		if title == "" {
			title = ev.Step
		}
		fmt.Fprintf(b, "  %s  %s%s\n", r.when(ev.At), title, stepDetail(ev))
	}
	var x struct {
		Rung       string              `json:"rung"`
		Candidates []linking.Candidate `json:"candidates"`
	}
	if len(v.Explanation) > 0 && json.Unmarshal(v.Explanation, &x) == nil && len(x.Candidates) > 0 {
		fmt.Fprintf(b, "\nЗаписи дневника, с которыми сравнивались данные Госуслуг:\n")
		for _, c := range x.Candidates {
			r.writeCandidate(b, c)
		}
	}
	if len(v.Advice) > 0 {
		fmt.Fprintf(b, "\nЧто сделать:\n")
		for _, a := range v.Advice {
			fmt.Fprintf(b, "  - %s\n", a)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// stepDetail is the part of a step's detail worth a line: ESIA's trust
// level and documents, the matching outcome and rung.
func stepDetail(ev Event) string {
	var d struct {
		Level     string   `json:"level"`
		Trusted   *bool    `json:"trusted"`
		Documents []string `json:"documents"`
		Outcome   string   `json:"outcome"`
		Rung      string   `json:"rung"`
		Reason    string   `json:"reason"`
	}
	if len(ev.Detail) == 0 || json.Unmarshal(ev.Detail, &d) != nil {
		return ""
	}
	var parts []string
	if d.Level != "" {
		parts = append(parts, "уровень "+d.Level)
	}
	if d.Trusted != nil {
		parts = append(parts, map[bool]string{true: "подтверждённая учётная запись", false: "учётная запись не подтверждена"}[*d.Trusted])
	}
	if len(d.Documents) > 0 {
		parts = append(parts, "документы: "+strings.Join(d.Documents, ", "))
	}
	if d.Outcome != "" {
		parts = append(parts, "итог: "+d.Outcome)
	}
	if d.Rung != "" {
		parts = append(parts, "ступень: "+d.Rung)
	}
	if len(parts) == 0 {
		return ""
	}
	return " — " + strings.Join(parts, "; ")
}

func (r Report) writeCandidate(b *strings.Builder, c linking.Candidate) {
	rec, known := r.Records[c.ExternalID]
	where := ""
	if known {
		where = strings.Join(nonEmpty(roleTitle(rec.Role), rec.School, classTitle(rec.Class)), ", ")
	}
	fmt.Fprintf(b, "  запись %s", c.ExternalID)
	if where != "" {
		fmt.Fprintf(b, " (%s)", where)
	}
	fmt.Fprintln(b)
	full := known && r.Full[c.ExternalID]
	for _, f := range c.Fields {
		name := fieldNames[f.Field]
		if name == "" {
			name = f.Field
		}
		roster := f.Roster
		if full {
			roster = rosterValue(rec, f.Field)
		}
		result := resultTitles[f.Result]
		if result == "" {
			result = string(f.Result)
		}
		if d := differences[f.Difference]; d != "" && f.Result == linking.ResultDifferent {
			result = d
		} else if f.Difference != "" && f.Result == linking.ResultDifferent {
			result += ": " + string(f.Difference)
		}
		if f.At > 0 {
			result += fmt.Sprintf(" (символ %d)", f.At)
		}
		fmt.Fprintf(b, "    %-26s %s — в дневнике %s, на Госуслугах %s\n", name+":", result, orDash(roster), orDash(f.ESIA))
	}
}

// rosterValue is a record's value of an explanation's field, in full.
func rosterValue(p store.Person, field string) string {
	switch field {
	case linking.FieldSNILS:
		return formatSNILS(p.SNILS)
	case linking.FieldLastName:
		return p.LastName
	case linking.FieldFirstName:
		return p.FirstName
	case linking.FieldPatronymic:
		return p.MiddleName
	case linking.FieldBirthDate:
		if p.BirthDate.IsZero() {
			return ""
		}
		return fmt.Sprintf("%02d.%02d.%04d", p.BirthDate.Day, int(p.BirthDate.Month), p.BirthDate.Year)
	case linking.FieldBirthCert:
		if p.BirthCert == nil {
			return ""
		}
		return strings.TrimSpace(p.BirthCert.Series + " " + p.BirthCert.Number)
	}
	return ""
}

// WritePersons writes the records a search found, masked but for those in
// Full, with their links and recent attempts.
func (r Report) WritePersons(w io.Writer, ps []PersonView) error {
	b := &strings.Builder{}
	if len(ps) == 0 {
		b.WriteString("Ничего не найдено.\n")
	}
	for i, p := range ps {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(b, "Запись %s (%s)\n", p.ExternalID, strings.Join(nonEmpty(roleTitle(store.Role(p.Role)), p.School, classTitle(p.Class)), ", "))
		name, snils, birth, cert := p.Name, p.SNILS, p.BirthDate, p.BirthCert
		if rec, ok := r.Records[p.ExternalID]; ok && r.Full[p.ExternalID] {
			name = strings.TrimSpace(rec.LastName + " " + rec.FirstName + " " + rec.MiddleName)
			snils = formatSNILS(rec.SNILS)
			birth = rosterValue(rec, linking.FieldBirthDate)
			cert = rosterValue(rec, linking.FieldBirthCert)
		}
		fmt.Fprintf(b, "  ФИО: %s\n  СНИЛС: %s\n  дата рождения: %s\n", orDash(name), orDash(snils), orDash(birth))
		if cert != "" {
			fmt.Fprintf(b, "  свидетельство о рождении: %s\n", cert)
		}
		if len(p.Flags) > 0 {
			fmt.Fprintf(b, "  замечания импорта: %s\n", strings.Join(p.Flags, ", "))
		}
		for _, f := range p.Fields {
			if f.Result == linking.ResultDifferent {
				name := fieldNames[f.Field]
				fmt.Fprintf(b, "  отличается от запроса: %s\n", name)
			}
		}
		if len(p.Links) == 0 {
			b.WriteString("  привязок к Госуслугам нет\n")
		}
		for _, l := range p.Links {
			fmt.Fprintf(b, "  привязка к Госуслугам %s: %s", l.ESIAOID, linkStatusTitle(l.Status))
			if why := suspensions[l.Reason]; why != "" {
				fmt.Fprintf(b, " — %s", why)
			}
			fmt.Fprintf(b, " (с %s)\n", r.when(l.CreatedAt))
		}
		for _, a := range p.RecentAttempts {
			fmt.Fprintf(b, "  вход %s %s: %s\n", a.Ref, r.when(a.At), a.Outcome)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func linkStatusTitle(s string) string {
	switch s {
	case string(store.LinkActive):
		return "действует"
	case string(store.LinkSuspended):
		return "приостановлена"
	}
	return s
}

func roleTitle(r store.Role) string {
	switch r {
	case store.RoleStudent:
		return "ученик"
	case store.RoleParent:
		return "родитель"
	case store.RoleTeacher:
		return "учитель"
	case store.RoleStaff:
		return "сотрудник"
	}
	return string(r)
}

func classTitle(c string) string {
	if c == "" {
		return ""
	}
	return c + " класс"
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// formatSNILS writes a SNILS as "NNN-NNN-NNN NN", or as stored when it is
// not one.
func formatSNILS(s string) string {
	d, _, err := linking.NormaliseSNILS(s)
	if err != nil || len(d) != 11 {
		return s
	}
	return d[0:3] + "-" + d[3:6] + "-" + d[6:9] + " " + d[9:11]
}
