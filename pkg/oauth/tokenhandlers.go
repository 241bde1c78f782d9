package oauth

import (
	"context"

	"github.com/ory/fosite"
)

// grantTokenHandler is a token endpoint handler of fosite's that answers a
// request of another grant type at once. fosite asks every handler to
// populate every token response (Fosite.NewAccessResponse), and each
// handler that is not the request's grant type's returns
// errorsx.WithStack(fosite.ErrUnknownRequest) — a stack trace taken by
// runtime.Callers, three per exchange or refresh, ~4% of a refresh's CPU
// (issue 13) — which fosite then ignores. The shortcut returns the
// error itself, which fosite ignores alike; a handler that does not
// handle the request's grant type does nothing else there
// (TestGrantTokenHandlersShortcut). NewAccessRequest asks
// CanHandleTokenEndpointRequest itself before it calls a handler.
type grantTokenHandler struct{ fosite.TokenEndpointHandler }

// PopulateTokenEndpointResponse implements fosite.TokenEndpointHandler.
func (h grantTokenHandler) PopulateTokenEndpointResponse(ctx context.Context, r fosite.AccessRequester, w fosite.AccessResponder) error {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	return h.TokenEndpointHandler.PopulateTokenEndpointResponse(ctx, r, w)
}

// shortcutTokenHandlers wraps the token endpoint handlers composed into fc.
func shortcutTokenHandlers(fc *fosite.Config) {
	for i, h := range fc.TokenEndpointHandlers {
		if _, ok := h.(grantTokenHandler); !ok {
			fc.TokenEndpointHandlers[i] = grantTokenHandler{h}
		}
	}
}
