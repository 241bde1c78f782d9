package linking

import (
	"reflect"
	"testing"
)

func TestCompareNamePart(t *testing.T) {
	tests := []struct {
		name         string
		roster, esia string
		result       FieldResult
		diff         Difference
		at           int
		rules        []string
	}{
		{"identical", "Иванов", "Иванов", ResultEqual, "", 0, nil},
		{"case only", "ИВАНОВ", "Иванов", ResultEqualNormalised, "", 0, []string{"case"}},
		{"Алёна/Алена", "Алёна", "Алена", ResultEqualNormalised, DiffYo, 0, []string{"yo"}},
		{"Семёнов/Семенов", "Семенов", "Семёнов", ResultEqualNormalised, DiffYo, 0, []string{"yo"}},
		{"Latin E in a Cyrillic surname", "ПЕТРOВ", "ПЕТРОВ", ResultEqualNormalised, DiffLookalike, 0, []string{"lookalike"}},
		{"Latin o in a Cyrillic name", "Coфья", "Софья", ResultEqualNormalised, DiffLookalike, 0, []string{"lookalike"}},
		{"Latin-layout word differing only in case", "Tom", "TOM", ResultEqualNormalised, "", 0, []string{"case"}},
		{"Latin lookalike and ё together", "Сeмёнов", "Семенов", ResultEqualNormalised, DiffLookalike, 0, []string{"yo", "lookalike"}},
		{"double surname, en dash against hyphen", "Петров–Водкин", "Петров-Водкин", ResultEqualNormalised, "", 0, []string{"dash"}},
		{"double surname, spaced dash", "Петрова - Водкина", "Петрова-Водкина", ResultEqualNormalised, "", 0, []string{"dash"}},
		{"double surname, space against hyphen", "Петров Водкин", "Петров-Водкин", ResultDifferent, DiffSeparator, 0, nil},
		{"one word of a double surname", "Петрова", "Петрова-Водкина", ResultDifferent, DiffPartOf, 0, nil},
		{"й against и", "Андреи", "Андрей", ResultDifferent, DiffOneLetter, 6, nil},
		{"letter missing", "Ивнов", "Иванов", ResultDifferent, DiffOneLetter, 3, nil},
		{"feminine ending", "Иванов", "Иванова", ResultDifferent, DiffOneLetter, 7, nil},
		{"transposed letters", "Иавнов", "Иванов", ResultDifferent, DiffTransposition, 2, nil},
		{"different names", "Сидоров", "Иванов", ResultDifferent, DiffOther, 0, nil},
		{"different after ё→е still reports the rule", "Семёнова", "Семенов", ResultDifferent, DiffOneLetter, 8, []string{"yo"}},
		{"malformed roster value", "Иванов2", "Иванов", ResultDifferent, DiffMalformed, 0, nil},
		{"missing in roster", "", "Иванов", ResultMissingRoster, "", 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := compareNamePart(FieldLastName, tc.roster, tc.esia)
			checkExplanation(t, got, tc.result, tc.diff, tc.at, tc.rules)
		})
	}
}

func TestCompareName(t *testing.T) {
	t.Run("no patronymic on one side is not a difference", func(t *testing.T) {
		c := CompareName(
			FullName{Last: "Семёнова", First: "Алёна"},
			FullName{Last: "СЕМЕНОВА", First: "АЛЕНА", Patronymic: "ИГОРЕВНА"})
		if !c.Matches() {
			t.Errorf("Matches() = false: %v", c.Fields())
		}
		if c.Patronymic.Result != ResultMissingRoster || c.Patronymic.Differs() {
			t.Errorf("patronymic: %v", c.Patronymic)
		}
		if c.Patronymic.ESIA != "И***" || c.Patronymic.Roster != "" {
			t.Errorf("patronymic masks: %q, %q", c.Patronymic.Roster, c.Patronymic.ESIA)
		}
	})
	t.Run("no patronymic on either side", func(t *testing.T) {
		c := CompareName(FullName{Last: "Smith", First: "John"}, FullName{Last: "SMITH", First: "JOHN"})
		if !c.Matches() || c.Patronymic.Result != ResultMissingBoth {
			t.Errorf("got %v", c.Fields())
		}
	})
	t.Run("different patronymics", func(t *testing.T) {
		c := CompareName(
			FullName{Last: "Иванов", First: "Иван", Patronymic: "Петрович"},
			FullName{Last: "Иванов", First: "Иван", Patronymic: "Павлович"})
		if c.Matches() || !c.Patronymic.Differs() {
			t.Errorf("got %v", c.Fields())
		}
	})
	t.Run("surname missing in the roster is not a match", func(t *testing.T) {
		c := CompareName(FullName{First: "Иван"}, FullName{Last: "Иванов", First: "Иван"})
		if c.Matches() {
			t.Errorf("got %v", c.Fields())
		}
	})
	t.Run("surname and given name swapped", func(t *testing.T) {
		c := CompareName(
			FullName{Last: "Алёна", First: "Семенова", Patronymic: "Игоревна"},
			FullName{Last: "Семенова", First: "Алена", Patronymic: "Игоревна"})
		if c.Last.Difference != DiffSwappedFields || c.First.Difference != DiffSwappedFields || c.Matches() {
			t.Errorf("got %v", c.Fields())
		}
	})
	t.Run("fields in order", func(t *testing.T) {
		c := CompareName(FullName{}, FullName{})
		var fields []string
		for _, f := range c.Fields() {
			fields = append(fields, f.Field)
		}
		if want := []string{FieldLastName, FieldFirstName, FieldPatronymic}; !reflect.DeepEqual(fields, want) {
			t.Errorf("fields = %v", fields)
		}
	})
}

func TestNameSimilarity(t *testing.T) {
	esia := FullName{Last: "Семёнова", First: "Алёна", Patronymic: "Игоревна"}
	same := NameSimilarity(FullName{Last: "СЕМЕНОВА", First: "АЛЕНА", Patronymic: "ИГОРЕВНА"}, esia)
	noPatronymic := NameSimilarity(FullName{Last: "Семенова", First: "Алена"}, esia)
	typo := NameSimilarity(FullName{Last: "Семенова", First: "Алина", Patronymic: "Игоревна"}, esia)
	swapped := NameSimilarity(FullName{Last: "Алена", First: "Семенова", Patronymic: "Игоревна"}, esia)
	sister := NameSimilarity(FullName{Last: "Семенова", First: "Мария", Patronymic: "Игоревна"}, esia)
	other := NameSimilarity(FullName{Last: "Кузнецов", First: "Пётр", Patronymic: "Ильич"}, esia)
	if same != 1 || noPatronymic != 1 {
		t.Errorf("same = %v, no patronymic = %v; want 1", same, noPatronymic)
	}
	if !(same > typo && typo > sister && sister > other) {
		t.Errorf("ranking: same %v, typo %v, sister %v, other %v", same, typo, sister, other)
	}
	if !(swapped > sister && swapped < same) {
		t.Errorf("swapped = %v (sister %v)", swapped, sister)
	}
	if s := NameSimilarity(FullName{}, FullName{}); s != 0 {
		t.Errorf("empty names: %v", s)
	}
	if a, b := NameSimilarity(esia, FullName{Last: "Иванов", First: "Алёна"}), NameSimilarity(FullName{Last: "Иванов", First: "Алёна"}, esia); a != b {
		t.Errorf("not symmetric: %v, %v", a, b)
	}
}
