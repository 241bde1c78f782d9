package webhook

import (
	"errors"
	"testing"
	"time"
)

func TestSignAndVerify(t *testing.T) {
	secret := []byte("whsec_test")
	body := []byte(`{"id":"e1","type":"consent.granted"}`)
	at := time.Unix(1795000000, 0)
	header := Sign(secret, at, body)
	tests := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", secret, header, body, at.Add(10 * time.Second), nil},
		{"tampered body", secret, header, []byte(`{"id":"e1","type":"consent.revoked"}`), at, ErrBadSignature},
		{"wrong secret", []byte("other"), header, body, at, ErrBadSignature},
		{"replayed an hour later", secret, header, body, at.Add(time.Hour), ErrStale},
		{"from the future", secret, header, body, at.Add(-time.Hour), ErrStale},
		{"no v1", secret, "t=1795000000", body, at, ErrMalformed},
		{"garbage", secret, "nonsense", body, at, ErrMalformed},
		{"second v1 matches (rotation)", secret, "t=1795000000,v1=00," + header[len("t=1795000000,"):], body, at, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := Verify(tc.secret, tc.header, tc.body, tc.now, 5*time.Minute); !errors.Is(err, tc.want) && !(err == nil && tc.want == nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDefaultBackoff(t *testing.T) {
	prev := time.Duration(0)
	for n := 1; n <= 14; n++ {
		d := DefaultBackoff(n)
		if d < 8*time.Second || d > 72*time.Minute {
			t.Fatalf("backoff(%d) = %v", n, d)
		}
		if n <= 8 && d < prev/2 {
			t.Fatalf("backoff(%d) = %v shrank from %v", n, d, prev)
		}
		prev = d
	}
}
