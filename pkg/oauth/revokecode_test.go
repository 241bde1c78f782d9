package oauth_test

import (
	"context"
	"errors"
	"testing"

	"golang.org/x/oauth2"
)

// TestRevokeSubjectTakesCodesInFlight: a code issued before a person's
// tokens were revoked (consent withdrawn, a link undone, a suspension)
// becomes no grant after — its exchange is invalid_grant — on memory and
// PostgreSQL.
func TestRevokeSubjectTakesCodesInFlight(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			h := b.mk(t)
			ctx := context.Background()
			v := oauth2.GenerateVerifier()
			code := h.code(t, v)
			n, err := h.provider.RevokeSubject(ctx, "demo", "pairwise-sub")
			must(t, err)
			if n != 0 {
				t.Fatalf("RevokeSubject = %d, want 0: a code in flight is not a token", n)
			}
			_, err = h.config().Exchange(ctx, code, oauth2.VerifierOption(v))
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
				t.Fatalf("exchange of a code issued before the revocation: %v, want invalid_grant", err)
			}
			// A code issued after the revocation works as ever.
			v2 := oauth2.GenerateVerifier()
			if _, err := h.config().Exchange(ctx, h.code(t, v2), oauth2.VerifierOption(v2)); err != nil {
				t.Fatalf("exchange of a later code: %v", err)
			}
		})
	}
}
