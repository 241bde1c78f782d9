package server

import (
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/store"
)

// TestRecordFieldsReveal: the record page's fields are masked unless the
// unmask handler's reveal names them; a revealed field is shown in full
// and loses its «Показать» form, the others stay masked.
func TestRecordFieldsReveal(t *testing.T) {
	p := store.Person{LastName: "Павлов", FirstName: "Игорь", MiddleName: "Николаевич", BirthDate: store.Date{Year: 1974, Month: 9, Day: 21},
		SNILS: "10452789344", BirthCert: &store.BirthCert{Series: "IV-МЮ", Number: "512345", IssueDate: store.Date{Year: 1974, Month: 10, Day: 1}},
		Contacts: []store.Contact{{Type: "email", Value: "pavlov@example.ru"}, {Type: "phone", Value: "+7 912 345-67-89"}}}
	masked := map[string]string{"name": "Павлов И. Н.", "birth_date": "**.**.1974", "snils": "***-***-893 44",
		"birth_cert": "IV-МЮ № ***345", "contacts": "p***@example.ru, ***89"}
	full := map[string]string{"name": "Павлов Игорь Николаевич", "birth_date": "21.09.1974", "snils": "104-527-893 44",
		"birth_cert": "IV-МЮ № 512345, выдано 01.10.1974", "contacts": "pavlov@example.ru, +7 912 345-67-89"}
	for field := range masked {
		t.Run(field, func(t *testing.T) {
			for _, f := range recordFields(p, map[string]bool{field: true}) {
				want, wantMasked := masked[f.Name], true
				if f.Name == field {
					want, wantMasked = full[f.Name], false
				}
				if f.Value != want || f.Masked != wantMasked {
					t.Errorf("%s with %s revealed: %q (masked %v), want %q (masked %v)", f.Name, field, f.Value, f.Masked, want, wantMasked)
				}
			}
		})
	}
	for _, f := range recordFields(store.Person{LastName: "Хан", FirstName: "Елизавета"}, nil) {
		if f.Name != "name" && (f.Value != "—" || f.Masked) {
			t.Errorf("an absent %s shows %q (masked %v)", f.Name, f.Value, f.Masked)
		}
		if f.Name == "name" && (f.Value != "Хан Е." || !f.Masked || strings.Contains(f.Value, "Елизавета")) {
			t.Errorf("name = %q", f.Value)
		}
	}
}
