package esiasim

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/diarybroker/broker/pkg/store"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// scopeNames are the Russian names of the scopes shown on the login page.
var scopeNames = map[string]string{
	"openid": "вход (идентификатор пользователя)", "fullname": "фамилия, имя и отчество",
	"birthdate": "дата и место рождения", "gender": "пол", "snils": "СНИЛС", "inn": "ИНН",
	"id_doc": "документ, удостоверяющий личность", "birth_cert_doc": "свидетельство о рождении",
	"medical_doc": "полис ОМС", "email": "адрес электронной почты", "mobile": "номер мобильного телефона",
	"contacts": "контактные данные", "addresses": "адреса",
	"kid_fullname": "ФИО детей", "kid_birthdate": "даты рождения детей", "kid_gender": "пол детей",
	"kid_snils": "СНИЛС детей", "kid_inn": "ИНН детей", "kid_birth_cert_doc": "свидетельства о рождении детей",
	"kid_medical_doc": "полисы ОМС детей",
}

var levelNames = map[string]string{
	"KD": "детская учётная запись", "PR": "подтверждённая учётная запись", "P": "упрощённая учётная запись",
}

type personButton struct {
	OID, Name, Age, Level, Role, Description string
}

func (s *Simulator) loginPage(w http.ResponseWriter, req *authRequest, id string) {
	today := store.DateOf(s.now())
	data := struct {
		ClientID, Action, Request string
		Scopes                    []string
		Persons                   []personButton
	}{ClientID: req.client.ID, Action: s.cfg.BaseURL + req.protocol.acPath(), Request: id}
	for _, sc := range req.scopes {
		if n := scopeNames[sc]; n != "" {
			data.Scopes = append(data.Scopes, n)
		}
	}
	for _, oid := range s.order {
		p := s.persons[oid]
		b := personButton{OID: oid, Level: levelNames[p.Level], Role: p.Sim.Role, Description: p.Sim.Description,
			Name: strings.Join(strings.Fields(p.LastName+" "+p.FirstName+" "+p.MiddleName), " ")}
		if d, err := store.ParseDate(p.BirthDate); err == nil {
			b.Age = ageRU(d.AgeOn(today))
		} else {
			b.Age = "возраст не указан"
		}
		data.Persons = append(data.Persons, b)
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, http.StatusOK, "login.html", data)
}

// ageRU formats an age in Russian: 1 год, 3 года, 11 лет, 21 год.
func ageRU(n int) string {
	word := "лет"
	switch {
	case n%100 >= 11 && n%100 <= 14:
	case n%10 == 1:
		word = "год"
	case n%10 >= 2 && n%10 <= 4:
		word = "года"
	}
	return fmt.Sprintf("%d %s", n, word)
}

// errorPage answers an ESIA error that cannot be redirected.
func (s *Simulator) errorPage(w http.ResponseWriter, status int, e *esiaError) {
	s.render(w, status, "message.html", map[string]string{
		"Title": "Ошибка запроса к ЕСИА",
		"Text":  "Система, с которой вы пришли, отправила запрос, который ЕСИА не может принять. Сообщите об ошибке в поддержку этой системы.",
		"Code":  e.description(),
	})
}

// messagePage answers a plain message.
func (s *Simulator) messagePage(w http.ResponseWriter, status int, title, text string) {
	s.render(w, status, "message.html", map[string]string{"Title": title, "Text": text})
}

func (s *Simulator) render(w http.ResponseWriter, status int, name string, data any) {
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}
