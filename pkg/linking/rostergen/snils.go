package rostergen

import (
	"fmt"
	"math/rand/v2"
)

// SNILS numbers are made so that no typo can turn one person's number into
// another's: every real number (its first nine digits) is a multiple of 7,
// and the typos this package makes change the number by d·10^k or, for a
// transposition, by 9·(a−b)·10^k, with d and a−b never ±7 — never by a
// multiple of 7. A typo therefore never finds another person's record by
// accident, and the manifest's outcomes stay exact on any roster size.
const (
	snilsBase  = 143143    // 7·143143 = 1002001, just above the unchecked range
	snilsRange = 142000000 // 7·(snilsBase+snilsRange) < 10^9
	snilsMul   = 48271     // coprime with snilsRange: i ↦ i·mul mod range is a bijection
)

// snilsOf returns the SNILS (11 digits) of the i-th person.
func snilsOf(i int) string {
	n := 7 * (snilsBase + (uint64(i)*snilsMul+12345)%snilsRange)
	return withCheck(fmt.Sprintf("%09d", n))
}

// withCheck appends the two check digits to nine digits: weights 9..1, a
// sum below 100 is the check number, 100 and 101 are 00, larger sums are
// taken mod 101 (and 100 becomes 00) — DESIGN.md §5.
func withCheck(nine string) string {
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(nine[i]-'0') * (9 - i)
	}
	switch {
	case sum < 100:
	case sum <= 101:
		sum = 0
	default:
		sum %= 101
		if sum == 100 {
			sum = 0
		}
	}
	return fmt.Sprintf("%s%02d", nine, sum)
}

// formatSNILS writes 11 digits the way rosters do: mostly ESIA's
// "NNN-NNN-NNN NN", often bare digits, sometimes with spaces.
func formatSNILS(s string, r *rand.Rand) string {
	switch x := r.IntN(10); {
	case x < 6:
		return esiaSNILS(s)
	case x < 9:
		return s
	default:
		return s[0:3] + " " + s[3:6] + " " + s[6:9] + " " + s[9:11]
	}
}

// esiaSNILS is ESIA's layout, NNN-NNN-NNN NN.
func esiaSNILS(s string) string { return s[0:3] + "-" + s[3:6] + "-" + s[6:9] + " " + s[9:11] }

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// snilsTypo changes one digit (never by ±7 within the number, see above).
func snilsTypo(s string, r *rand.Rand) string {
	b := []byte(s)
	pos := r.IntN(11)
	for {
		d := byte('0' + r.IntN(10))
		if d == b[pos] || (pos < 9 && abs(int(d)-int(b[pos])) == 7) {
			continue
		}
		b[pos] = d
		return string(b)
	}
}

// snilsTransposition swaps two neighbouring different digits (never two
// that differ by 7 within the number); ok is false when no pair qualifies.
func snilsTransposition(s string, r *rand.Rand) (string, bool) {
	b := []byte(s)
	start := r.IntN(10)
	for k := 0; k < 10; k++ {
		i := (start + k) % 10
		a, c := b[i], b[i+1]
		if a == c || (i < 9 && abs(int(a)-int(c)) == 7) {
			continue
		}
		b[i], b[i+1] = c, a
		return string(b), true
	}
	return "", false
}
