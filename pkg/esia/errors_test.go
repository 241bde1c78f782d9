package esia_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/esia"
)

func TestParseCallbackError(t *testing.T) {
	tests := []struct {
		code   string
		target error
	}{
		{"ESIA-007002", esia.ErrCertificateMismatch},
		{"ESIA-007003", esia.ErrInvalidParameter},
		{"ESIA-007004", esia.ErrUserRefused},
		{"ESIA-007005", esia.ErrGrantNotAllowed},
		{"ESIA-007006", esia.ErrInvalidScope},
		{"ESIA-007007", esia.ErrInternal},
		{"ESIA-007008", esia.ErrUnavailable},
		{"ESIA-007009", esia.ErrGrantNotSupported},
		{"ESIA-007011", esia.ErrCodeInvalid},
		{"ESIA-007012", esia.ErrResponseTypeNotSupported},
		{"ESIA-007013", esia.ErrNoScope},
		{"ESIA-007014", esia.ErrMissingParameter},
		{"ESIA-007015", esia.ErrBadTimestamp},
		{"ESIA-007019", esia.ErrNoPermission},
		{"ESIA-007023", esia.ErrRedirectURINotRegistered},
		{"ESIA-007038", esia.ErrUnreadableRequest},
		{"ESIA-007039", esia.ErrCodeChallenge},
		{"ESIA-007040", esia.ErrCodeVerifier},
		{"ESIA-007053", esia.ErrClientSecretWrong},
		{"ESIA-007055", esia.ErrUnconfirmedAccount},
		{"ESIA-008010", esia.ErrClientAuthFailed},
		{"ESIA-036701", esia.ErrDigitalProfileConsent},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			q := url.Values{"error": {"access_denied"}, "error_description": {tc.code + ": something"}, "state": {state}}
			err := esia.ParseCallbackError(q)
			if !errors.Is(err, tc.target) {
				t.Fatalf("%v is not %v", err, tc.target)
			}
			if errors.Is(err, esia.ErrUserRefused) != (tc.target == esia.ErrUserRefused) {
				t.Error("matches ErrUserRefused")
			}
			var e *esia.Error
			if !errors.As(err, &e) || e.Code != tc.code || e.OAuthError != "access_denied" {
				t.Errorf("error %#v", e)
			}
			if msg := esia.UserMessage(fmt.Errorf("login: %w", err)); msg == "" || strings.Contains(msg, "ESIA") {
				t.Errorf("user message %q", msg)
			}
		})
	}
	if esia.ParseCallbackError(url.Values{"code": {"x"}, "state": {state}}) != nil {
		t.Error("error without an error parameter")
	}
	if err := esia.ParseCallbackError(url.Values{"error": {"server_error"}}); err == nil || errors.Is(err, esia.ErrInternal) {
		t.Errorf("code-less error %v", err)
	}
}

func TestCallbackFromSimulator(t *testing.T) {
	w := newWorld(t)
	for _, code := range []string{"ESIA-007004", "ESIA-007055", "ESIA-007008"} {
		cb := w.authorize(url.Values{"sim_person": {"1000100001"}, "sim_error": {code}})
		var e *esia.Error
		if err := esia.ParseCallbackError(cb); !errors.As(err, &e) || e.Code != code {
			t.Errorf("%s: %v", code, err)
		}
	}
	// A fixture person who always refuses.
	if err := esia.ParseCallbackError(w.authorize(url.Values{"sim_person": {"1000100016"}})); !errors.Is(err, esia.ErrUserRefused) {
		t.Errorf("fixture refusal: %v", err)
	}
}

func TestUserMessage(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{esia.ErrUserRefused, "не разрешили доступ"},
		{esia.ErrUnavailable, "не отвечают"},
		{&esia.Error{HTTPStatus: 502}, "не отвечают"},
		{esia.ErrInternal, "не отвечают"},
		{context.DeadlineExceeded, "не отвечают"},
		{esia.ErrCodeInvalid, "Время на вход истекло"},
		{esia.ErrUnconfirmedAccount, "подтверждённая учётная запись"},
		{esia.ErrClientSecretWrong, "технической ошибки"},
		{&esia.TokenError{Token: "id", Reason: "expired"}, "технической ошибки"},
		{esia.ErrStateMismatch, "технической ошибки"},
		{context.Canceled, "Вход прерван"},
	}
	for _, tc := range tests {
		if got := esia.UserMessage(tc.err); !strings.Contains(got, tc.want) || (tc.want == "" && got != "") {
			t.Errorf("UserMessage(%v) = %q, want …%s…", tc.err, got, tc.want)
		}
	}
}

func TestErrorString(t *testing.T) {
	e := &esia.Error{Code: "ESIA-007011", Description: "ESIA-007011: code expired", HTTPStatus: 400}
	if got := e.Error(); got != "esia: ESIA-007011: code expired (HTTP 400)" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&esia.TokenError{Token: "access", Reason: "expired"}).Error(); got != "esia: access token invalid: expired" {
		t.Errorf("TokenError = %q", got)
	}
}
