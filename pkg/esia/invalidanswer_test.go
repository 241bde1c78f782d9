package esia_test

import (
	"context"
	"errors"
	"testing"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/esia/esiasim"
)

// TestInvalidAnswer: ESIA answering 200 with something that is not the
// protocol — a gateway's maintenance page, a truncated document, the wrong
// JSON — is esia.ErrInvalidAnswer, and neither ErrUnavailable nor a token
// verification failure, at the token endpoint and at the REST reads.
func TestInvalidAnswer(t *testing.T) {
	const page = "<html><body>Технические работы</body></html>"
	tests := []struct {
		name     string
		fault    esiasim.Fault
		call     func(w *world) error
		tokenErr bool // the fault is at te: the token exchange fails
	}{
		{"maintenance page at te", esiasim.Fault{Endpoint: esiasim.EndpointToken, Body: page}, nil, true},
		{"truncated token JSON", esiasim.Fault{Endpoint: esiasim.EndpointToken, Body: `{"access_token":"eyJ`, ContentType: "application/json"}, nil, true},
		{"maintenance page for the person", esiasim.Fault{Endpoint: esiasim.EndpointPerson, Body: page}, func(w *world) error {
			_, err := w.cfg.Person(context.Background(), w.login("1000100001"))
			return err
		}, false},
		{"a JSON array for the person", esiasim.Fault{Endpoint: esiasim.EndpointPerson, Body: `[1,2]`, ContentType: "application/json"}, func(w *world) error {
			_, err := w.cfg.Person(context.Background(), w.login("1000100001"))
			return err
		}, false},
		{"a string for the kids", esiasim.Fault{Endpoint: esiasim.EndpointKids, Body: `"kids"`, ContentType: "application/json"}, func(w *world) error {
			_, err := w.cfg.Kids(context.Background(), w.login("1000100001"))
			return err
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			var err error
			if tc.tokenErr {
				code := w.code("1000100001")
				w.sim.InjectFault(tc.fault)
				_, err = w.cfg.Exchange(context.Background(), code)
			} else {
				w.sim.InjectFault(tc.fault)
				err = tc.call(w)
			}
			if !errors.Is(err, esia.ErrInvalidAnswer) {
				t.Fatalf("err %v, want ErrInvalidAnswer", err)
			}
			if errors.Is(err, esia.ErrUnavailable) || errors.Is(err, esia.ErrTokenInvalid) {
				t.Fatalf("err %v also reads as an outage or a token failure", err)
			}
		})
	}
}
