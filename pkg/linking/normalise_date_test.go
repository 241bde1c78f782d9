package linking

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

func TestParseBirthDate(t *testing.T) {
	tests := []struct {
		in   string
		want store.Date
		err  error
	}{
		{"03.05.2012", store.Date{Year: 2012, Month: time.May, Day: 3}, nil},
		{"2012-05-03", store.Date{Year: 2012, Month: time.May, Day: 3}, nil},
		{" 03.05.2012\u00a0", store.Date{Year: 2012, Month: time.May, Day: 3}, nil},
		{"29.02.2012", store.Date{Year: 2012, Month: time.February, Day: 29}, nil},
		{"29.02.2000", store.Date{Year: 2000, Month: time.February, Day: 29}, nil},
		{"1900-01-01", store.Date{Year: 1900, Month: time.January, Day: 1}, nil},
		{"", store.Date{}, nil},
		{"29.02.2013", store.Date{}, ErrBirthDateFormat},
		{"29.02.1900", store.Date{}, ErrBirthDateFormat},
		{"30.02.2012", store.Date{}, ErrBirthDateFormat},
		{"31.04.2012", store.Date{}, ErrBirthDateFormat},
		{"00.05.2012", store.Date{}, ErrBirthDateFormat},
		{"03.13.2012", store.Date{}, ErrBirthDateFormat},
		{"3.5.2012", store.Date{}, ErrBirthDateFormat},
		{"2012-5-3", store.Date{}, ErrBirthDateFormat},
		{"03/05/2012", store.Date{}, ErrBirthDateFormat},
		{"2012-05-03T00:00:00Z", store.Date{}, ErrBirthDateFormat},
		{"+3.05.2012", store.Date{}, ErrBirthDateFormat},
		{"03.05.20l2", store.Date{}, ErrBirthDateFormat},
		{"31.12.1899", store.Date{}, ErrBirthDateRange},
		{"0012-05-03", store.Date{}, ErrBirthDateRange},
	}
	for _, tc := range tests {
		got, err := ParseBirthDate(tc.in)
		if !errors.Is(err, tc.err) || (err != nil) != (tc.err != nil) {
			t.Errorf("ParseBirthDate(%q) error = %v, want %v", tc.in, err, tc.err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseBirthDate(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestParseBirthDateAgreesWithStore checks that ParseBirthDate accepts what
// store.ParseDate accepts, from 1900 on, over every day of a few years and
// every impossible day-of-month.
func TestParseBirthDateAgreesWithStore(t *testing.T) {
	for _, y := range []int{1900, 1999, 2000, 2011, 2012, 2013, 2024} {
		for m := 1; m <= 12; m++ {
			for d := 0; d <= 32; d++ {
				for _, s := range []string{
					fmtDate("%02d.%02d.%04d", d, m, y),
					fmtDate("%04d-%02d-%02d", y, m, d),
				} {
					want, werr := store.ParseDate(s)
					got, err := ParseBirthDate(s)
					if (werr == nil) != (err == nil) || got != want {
						t.Errorf("%q: ParseBirthDate = %v, %v; store.ParseDate = %v, %v", s, got, err, want, werr)
					}
				}
			}
		}
	}
}

func fmtDate(layout string, a, b, c int) string { return fmt.Sprintf(layout, a, b, c) }
