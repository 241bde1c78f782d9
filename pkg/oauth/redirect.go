package oauth

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/ory/fosite"
)

// redirectURIRegistered reports whether raw, the redirect_uri of an
// authorization request, is one the client registered. fosite's own
// matching (MatchRedirectURIWithClientRedirectURIs) lets every client vary
// the port of a registered loopback URI and does not look at userinfo, so
// for a confidential client registered with http://127.0.0.1:8089/callback
// it sends the code to http://evil@127.0.0.1:8090/callback. It cannot be
// configured; the broker checks again, narrower:
//   - a confidential client: the exact string it registered;
//   - a public client: that, or a registered loopback URI (http, an IP
//     literal 127.0.0.1 or [::1]) with another port — RFC 8252 §7.3: a
//     native app listens on whatever port the system gives it;
//   - never a URI with userinfo (RFC 3986 §3.2.1): nobody registers one, and
//     "user@host" is how a URL is dressed up to look like another's.
//
// An empty raw is the client's only registered URI (RFC 6749 §3.1.2.3, as
// fosite does), and refused when it has several.
func redirectURIRegistered(c fosite.Client, raw string) bool {
	if c == nil {
		return false
	}
	registered := c.GetRedirectURIs()
	if raw == "" {
		if len(registered) != 1 {
			return false
		}
		raw = registered[0]
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil {
		return false
	}
	if slices.Contains(registered, raw) {
		return true
	}
	if !c.IsPublic() || !isLoopbackRedirect(u) {
		return false
	}
	for _, r := range registered {
		reg, err := url.Parse(r)
		if err != nil || !isLoopbackRedirect(reg) || reg.Hostname() != u.Hostname() {
			continue
		}
		// The request with the registered port must be the registered
		// URI, character for character: only the port may differ.
		withPort := *u
		withPort.Host = reg.Host
		if withPort.String() == r {
			return true
		}
	}
	return false
}

// isLoopbackRedirect reports whether u is a loopback redirect URI of RFC
// 8252 §7.3: http, a loopback IP literal (not "localhost", §8.3), no
// userinfo.
func isLoopbackRedirect(u *url.URL) bool {
	ip := net.ParseIP(u.Hostname())
	return u.Scheme == "http" && u.User == nil && u.Opaque == "" && ip != nil && ip.IsLoopback()
}

// CheckRedirectURI says why raw cannot be registered as a redirect URI:
// it must be absolute (RFC 6749 §3.1.2), without a fragment, and without
// userinfo, which redirectURIRegistered never accepts.
func CheckRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("oauth: redirect URI %q: %w", raw, err)
	case u.Scheme == "" || u.Host == "":
		return fmt.Errorf("oauth: redirect URI %q is not an absolute URL", raw)
	case u.User != nil:
		return fmt.Errorf("oauth: redirect URI %q has userinfo (user@host), which is never accepted", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("oauth: redirect URI %q has a fragment", raw)
	}
	return nil
}
