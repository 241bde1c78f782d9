package linking

import (
	"errors"
	"testing"
)

func TestNormaliseName(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  string
		rules RuleSet
		err   error
	}{
		{"already canonical", "ИВАНОВ", "ИВАНОВ", 0, nil},
		{"mixed case", "Иванов", "ИВАНОВ", RuleCase, nil},
		{"ё in Алёна", "Алёна", "АЛЕНА", RuleCase | RuleYo, nil},
		{"ё in Семёнов", "Семёнов", "СЕМЕНОВ", RuleCase | RuleYo, nil},
		{"capital Ё", "ЁЛКИН", "ЕЛКИН", RuleYo, nil},
		{"decomposed ё", "Семе\u0308нов", "СЕМЕНОВ", RuleNFC | RuleCase | RuleYo, nil},
		{"decomposed й", "Андреи\u0306", "АНДРЕЙ", RuleNFC | RuleCase, nil},
		{"Latin E inside Cyrillic", "ПЕТРOВ", "ПЕТРОВ", RuleLookalike, nil},
		{"Latin e inside Cyrillic", "Сeменов", "СЕМЕНОВ", RuleCase | RuleLookalike, nil},
		{"Latin o inside Cyrillic", "Coкoлова", "СОКОЛОВА", RuleCase | RuleLookalike, nil},
		{"Latin E with diaeresis for Ё", "Алëна", "АЛЕНА", RuleCase | RuleLookalike | RuleYo, nil},
		{"whole word in the Latin layout", "OKCAHA", "ОКСАНА", RuleLookalike, nil},
		{"Latin name stays Latin", "Anna", "ANNA", RuleCase, nil},
		{"digit zero for О", "0льга", "ОЛЬГА", RuleCase | RuleLookalike, nil},
		{"double surname with hyphen", "Петров-Водкин", "ПЕТРОВ-ВОДКИН", RuleCase, nil},
		{"double surname with en dash", "Петров–Водкин", "ПЕТРОВ-ВОДКИН", RuleCase | RuleDash, nil},
		{"double surname with em dash and spaces", "Петров — Водкин", "ПЕТРОВ-ВОДКИН", RuleCase | RuleDash, nil},
		{"double surname with minus sign", "ПЕТРОВ−ВОДКИН", "ПЕТРОВ-ВОДКИН", RuleDash, nil},
		{"double surname with non-breaking hyphen", "ПЕТРОВ\u2011ВОДКИН", "ПЕТРОВ-ВОДКИН", RuleDash, nil},
		{"doubled hyphen", "ПЕТРОВ--ВОДКИН", "ПЕТРОВ-ВОДКИН", RuleDash, nil},
		{"spaces trimmed", "  ИВАН ", "ИВАН", RuleSpace, nil},
		{"spaces collapsed", "АННА  МАРИЯ", "АННА МАРИЯ", RuleSpace, nil},
		{"no-break space", "АННА\u00a0МАРИЯ", "АННА МАРИЯ", RuleSpace, nil},
		{"tab", "АННА\tМАРИЯ", "АННА МАРИЯ", RuleSpace, nil},
		{"two-word patronymic", "Мамед оглы", "МАМЕД ОГЛЫ", RuleCase, nil},
		{"zero-width space", "Иван\u200bов", "ИВАНОВ", RuleInvisible | RuleCase, nil},
		{"byte order mark", "\ufeffИВАНОВ", "ИВАНОВ", RuleInvisible, nil},
		{"typographic apostrophe", "О’Нил", "О'НИЛ", RuleCase | RuleApostrophe, nil},
		{"ASCII apostrophe", "Д'АРТАНЬЯН", "Д'АРТАНЬЯН", 0, nil},
		{"й is not и", "Андрей", "АНДРЕЙ", RuleCase, nil},
		{"blank is absent", " \u00a0 ", "", 0, nil},
		{"empty is absent", "", "", 0, nil},
		{"digit", "Иванов2", "", 0, ErrNameCharacters},
		{"brackets", "Иванова (Петрова)", "", 0, ErrNameCharacters},
		{"control character", "Иван\x00ов", "", 0, ErrNameCharacters},
		{"invalid UTF-8", "Иван\xffов", "", 0, ErrNameCharacters},
		{"lone zero", "0", "", 0, ErrNameCharacters},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, rules, err := NormaliseName(tc.in)
			if !errors.Is(err, tc.err) || (err != nil) != (tc.err != nil) {
				t.Fatalf("NormaliseName(%q) error = %v, want %v", tc.in, err, tc.err)
			}
			if got != tc.want || rules != tc.rules {
				t.Errorf("NormaliseName(%q) = %q, %v; want %q, %v", tc.in, got, rules, tc.want, tc.rules)
			}
			if err != nil {
				return
			}
			again, rules2, err := NormaliseName(got)
			if again != got || rules2 != 0 || err != nil {
				t.Errorf("NormaliseName(%q) = %q, %v, %v; not idempotent", got, again, rules2, err)
			}
		})
	}
}

func TestNormaliseFullName(t *testing.T) {
	got, rules, err := NormaliseFullName(FullName{Last: "Семёнова", First: "Алёна", Patronymic: ""})
	want := FullName{Last: "СЕМЕНОВА", First: "АЛЕНА"}
	if err != nil || got != want || rules != RuleCase|RuleYo {
		t.Errorf("NormaliseFullName = %+v, %v, %v; want %+v", got, rules, err, want)
	}
	_, _, err = NormaliseFullName(FullName{Last: "Иванов", First: "Иван1"})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != FieldFirstName || !errors.Is(err, ErrNameCharacters) {
		t.Errorf("NormaliseFullName error = %v, want a FieldError for first_name", err)
	}
}

func TestRuleSetNames(t *testing.T) {
	if got := (RuleYo | RuleCase).String(); got != "case+yo" {
		t.Errorf("String = %q", got)
	}
	if RuleSet(0).Names() != nil {
		t.Error("empty set has names")
	}
	if len(ruleNames) != ruleIndexEnd() {
		t.Errorf("%d rule names for %d rules", len(ruleNames), ruleIndexEnd())
	}
}

func ruleIndexEnd() int {
	n := 0
	for r := RuleSet(1); r < ruleEnd; r <<= 1 {
		n++
	}
	return n
}
