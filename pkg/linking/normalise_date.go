package linking

import (
	"errors"
	"time"
	"unicode/utf8"

	"github.com/diarybroker/broker/pkg/store"
)

// Errors of ParseBirthDate. Neither quotes the value.
var (
	// ErrBirthDateFormat reports a value in neither "dd.MM.yyyy" nor
	// "yyyy-MM-dd", or a day that does not exist in the calendar
	// (31.04.2012, 29.02.2013).
	ErrBirthDateFormat = errors.New("linking: birth date must be a calendar date written dd.MM.yyyy or yyyy-MM-dd")
	// ErrBirthDateRange reports a year before 1900.
	ErrBirthDateRange = errors.New("linking: birth date is before 1900")
)

// birthYearMin is the earliest birth year accepted: nobody in a diary, parent
// or teacher, was born before 1900, and a year 0001 or 0012 is a typing or
// spreadsheet accident that must be reported, not stored.
const birthYearMin = 1900

// ParseBirthDate reads a birth date written "dd.MM.yyyy" (ESIA's birthDate,
// ESIA.md) or "yyyy-MM-dd" (ISO 8601, the roster API), with exactly two digits
// for day and month and four for the year. Surrounding white space and
// invisible characters are ignored. A day that does not exist (30.02, 29.02
// of a common year, 31.04) is ErrBirthDateFormat; a year before 1900 is
// ErrBirthDateRange. A blank input is absent: the zero store.Date and nil.
//
// It accepts exactly what store.ParseDate accepts (years ≥ 1900), without
// allocating; the future is not checked here, as linking has no clock.
func ParseBirthDate(s string) (store.Date, error) {
	s = trimBlank(s)
	if s == "" {
		return store.Date{}, nil
	}
	if len(s) != 10 {
		return store.Date{}, ErrBirthDateFormat
	}
	var y, m, d int
	var ok bool
	switch {
	case s[2] == '.' && s[5] == '.':
		d, ok = atoiFixed(s[0:2])
		if ok {
			m, ok = atoiFixed(s[3:5])
		}
		if ok {
			y, ok = atoiFixed(s[6:10])
		}
	case s[4] == '-' && s[7] == '-':
		y, ok = atoiFixed(s[0:4])
		if ok {
			m, ok = atoiFixed(s[5:7])
		}
		if ok {
			d, ok = atoiFixed(s[8:10])
		}
	}
	if !ok || !validCalendarDate(y, time.Month(m), d) {
		return store.Date{}, ErrBirthDateFormat
	}
	if y < birthYearMin {
		return store.Date{}, ErrBirthDateRange
	}
	return store.Date{Year: y, Month: time.Month(m), Day: d}, nil
}

// trimBlank trims white space and invisible characters from both ends.
func trimBlank(s string) string {
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		if !isSpace(r) && !isInvisible(r) {
			break
		}
		s = s[size:]
	}
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if !isSpace(r) && !isInvisible(r) {
			break
		}
		s = s[:len(s)-size]
	}
	return s
}

// atoiFixed parses ASCII digits only.
func atoiFixed(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// validCalendarDate reports whether the day exists in the proleptic Gregorian
// calendar (the one time.Date and store.ParseDate use).
func validCalendarDate(y int, m time.Month, d int) bool {
	if m < time.January || m > time.December || d < 1 {
		return false
	}
	return d <= daysIn(y, m)
}

func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// validBirthDate reports a date ParseBirthDate could have returned.
func validBirthDate(d store.Date) bool {
	return d.Year >= birthYearMin && d.Year <= 9999 && validCalendarDate(d.Year, d.Month, d.Day)
}
