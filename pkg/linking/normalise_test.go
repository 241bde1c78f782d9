package linking

import (
	"testing"
	"unicode"
)

// TestCharacterClasses checks the hand-written fast paths against the
// unicode package over every code point.
func TestCharacterClasses(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if isSpace(r) != unicode.IsSpace(r) {
			t.Errorf("isSpace(%U) = %v", r, isSpace(r))
		}
		if toUpper(r) != unicode.ToUpper(r) {
			t.Errorf("toUpper(%U) = %U", r, toUpper(r))
		}
		if isFastLetter(r) && !unicode.IsLetter(r) {
			t.Errorf("isFastLetter(%U) but not a letter", r)
		}
		if isRussianLetter(r) && !unicode.Is(unicode.Cyrillic, r) {
			t.Errorf("isRussianLetter(%U) but not Cyrillic", r)
		}
		if c, ok := latinLookalike(r); ok && (!unicode.Is(unicode.Latin, r) || !unicode.Is(unicode.Cyrillic, c) || !unicode.IsUpper(c)) {
			t.Errorf("latinLookalike(%U) = %U", r, c)
		}
		if isDash(r) && !unicode.Is(unicode.Pd, r) && r != 0x2212 {
			t.Errorf("isDash(%U) is not a dash", r)
		}
		if isInvisible(r) && !unicode.Is(unicode.Cf, r) {
			t.Errorf("isInvisible(%U) is not a format character", r)
		}
	}
}
