package login

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"time"
)

// Binding ties a pending login to the browser that began it. Without it a
// pending login would be found by ESIA's state alone, and a callback URL
// opened in another browser would finish the login there (login CSRF: the
// victim logged in to the diary as the attacker, or the attacker's parent
// session planted on the victim's parent page).
//
// The server sets Value as a cookie named Name (HttpOnly, SameSite=Lax,
// only for the callback path, for TTL); the pending login keeps only the
// SHA-256 of Value. Each pending login has a cookie of its own, named after
// its state, so that logins begun in parallel tabs of one browser each
// find theirs.
type Binding struct {
	Name  string
	Value string
	TTL   time.Duration
}

// BindingCookiePrefix begins the name of every binding cookie.
const BindingCookiePrefix = "broker_login_"

// BindingName names the cookie of the pending login behind an ESIA state:
// a short hash of the state, so the name says nothing ESIA's URL does not.
func BindingName(state string) string {
	sum := sha256.Sum256([]byte("broker login binding\x00" + state))
	return BindingCookiePrefix + hex.EncodeToString(sum[:8])
}

// newBinding returns a fresh binding for state and the hash to keep.
func newBinding(state string, ttl time.Duration) (Binding, string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return Binding{}, "", err
	}
	v := base64.RawURLEncoding.EncodeToString(b)
	return Binding{Name: BindingName(state), Value: v, TTL: ttl}, bindingHash(v), nil
}

func bindingHash(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:])
}

// boundTo reports whether the browser's cookie value is the one the
// pending login was begun with.
func (p *Pending) boundTo(value string) bool {
	if p.Browser == "" || value == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(p.Browser), []byte(bindingHash(value))) == 1
}

// ReasonOtherBrowser is sent to the diary (error_description) when ESIA's
// answer reached a browser that did not begin the login: another browser
// or device, or one whose login cookie was lost. The pending login is left
// for the browser that began it.
const ReasonOtherBrowser = "login_expired"

// otherBrowser is the page for a callback in the wrong browser.
var otherBrowser = Message{
	Title: "Сеанс входа устарел",
	Text: "Этот вход был начат в другом браузере или на другом устройстве, или сеанс входа устарел. " +
		"Вернитесь в электронный дневник и войдите заново в этом браузере.",
}
