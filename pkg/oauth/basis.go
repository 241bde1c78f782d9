package oauth

import "github.com/diarybroker/broker/pkg/store"

// Basis is what a login's code rests on: the person's link to the diary
// record (ESIA's oid; the record is the claims' person_id) and the
// consent that let them in. Withdrawing that consent, removing or
// suspending that link revokes the person's codes and tokens; a code
// written a moment after such a revocation, from a decision made a moment
// before it, would escape it. So the code's exchange checks its basis in
// the transaction that turns it into a grant (store.OAuthRequirement) and
// answers invalid_grant when it no longer holds. The grant's own session
// does not keep it: a grant is ended by the revocation itself.
type Basis struct {
	ESIAOID   string `json:"oid"`
	ConsentID string `json:"consent"`
	// Ref is the login's reference code: a refused exchange is noted in
	// its attempt (Config.CodeRefused), where support finds why the diary
	// got no tokens.
	Ref string `json:"ref,omitempty"`
}

// requirement is the store's form of the basis of a code issued in
// tenantID for personID; nil when the code has none (it was issued before
// codes kept one).
func (b *Basis) requirement(tenantID, personID string) *store.OAuthRequirement {
	if b == nil {
		return nil
	}
	return &store.OAuthRequirement{TenantID: tenantID, ESIAOID: b.ESIAOID, PersonID: personID, ConsentID: b.ConsentID}
}

// basisEndedError is a code exchange refused because the code's basis no
// longer holds (ErrUnmet): the person's consent or link ended after the
// code was issued. ref is the login's reference code, when the basis has
// one.
type basisEndedError struct{ ref string }

func (basisEndedError) Error() string {
	return "oauth: the consent or link the code rests on has ended"
}
