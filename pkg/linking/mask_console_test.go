package linking_test

import (
	"testing"

	"github.com/diarybroker/broker/pkg/linking"
)

func TestConsoleMasks(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"full name", linking.MaskFullName("Павлов", "Игорь", "Николаевич"), "Павлов И. Н."},
		{"no patronymic", linking.MaskFullName("Хан", "Елизавета", ""), "Хан Е."},
		{"double last name", linking.MaskFullName(" Римская-Корсакова", "Вера", "Ильинична"), "Римская-Корсакова В. И."},
		{"a name that cannot be read", linking.MaskFullName("Павлов", "Игорь\x00", ""), "Павлов ***"},
		{"a certificate number", linking.MaskDocumentNumber("512345"), "***345"},
		{"seven digits", linking.MaskDocumentNumber("0456789"), "****789"},
		{"three characters", linking.MaskDocumentNumber("123"), "***"},
		{"none", linking.MaskDocumentNumber(""), ""},
		{"e-mail", linking.MaskContact("email", "smirnova.ev@example.com"), "s***@example.com"},
		{"phone", linking.MaskContact("phone", "+7 (912) 345-67-89"), "***89"},
		{"a short phone", linking.MaskContact("phone", "12"), "***"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}
