package oauth

import (
	"context"
	"errors"
	"testing"

	"github.com/ory/fosite"
)

// TestGrantTokenHandlersShortcut: every token endpoint handler the
// provider composes is wrapped, and for a request of a grant type it does
// not handle, the handler itself would have done nothing but return
// fosite.ErrUnknownRequest (or nil) — what the shortcut returns at once.
func TestGrantTokenHandlersShortcut(t *testing.T) {
	ctx := context.Background()
	p := fuzzProvider(t)
	handlers := p.fosite.Config.(*fosite.Config).TokenEndpointHandlers
	if len(handlers) < 4 {
		t.Fatalf("%d token endpoint handlers", len(handlers))
	}
	skipped := 0
	for _, h := range handlers {
		w, ok := h.(grantTokenHandler)
		if !ok {
			t.Fatalf("%T is not wrapped", h)
		}
		for _, grant := range []string{"authorization_code", "refresh_token", "client_credentials", "password", "urn:ietf:params:oauth:grant-type:jwt-bearer"} {
			r := fosite.NewAccessRequest(NewSession())
			r.GrantTypes = fosite.Arguments{grant}
			if w.CanHandleTokenEndpointRequest(ctx, r) {
				continue
			}
			skipped++
			if err := w.TokenEndpointHandler.PopulateTokenEndpointResponse(ctx, r, fosite.NewAccessResponse()); err != nil && !errors.Is(err, fosite.ErrUnknownRequest) {
				t.Errorf("%T for %s: %v, not what the shortcut returns", w.TokenEndpointHandler, grant, err)
			}
			if err := w.PopulateTokenEndpointResponse(ctx, r, fosite.NewAccessResponse()); !errors.Is(err, fosite.ErrUnknownRequest) {
				t.Errorf("shortcut of %T for %s: %v", w.TokenEndpointHandler, grant, err)
			}
		}
	}
	if skipped == 0 {
		t.Fatal("no handler was asked about a grant type it does not handle")
	}
}
