package admin

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
)

// ClientSettings are the settings of a client an update may change: nil
// is "unchanged" (an empty, non-nil list empties it). Each field sets the
// store.Client field of the same name, so a new client setting is one
// line here; the name tags are the flags of `broker clients update`, the
// JSON names the admin API's.
type ClientSettings struct {
	Name                   *string  `json:"name,omitempty" name:"name" help:"Human name of the client." placeholder:"TEXT"`
	RedirectURIs           []string `json:"redirect_uris,omitempty" name:"redirect-uri" help:"Exact redirect URI (repeatable; the list given replaces the client's)." placeholder:"URI"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty" name:"post-logout-redirect-uri" help:"Where logout may return (repeatable; replaces the list)." placeholder:"URI"`
	GrantTypes             []string `json:"grant_types,omitempty" name:"grant" help:"Grant type: authorization_code, refresh_token, client_credentials (repeatable; replaces the list)." placeholder:"GRANT"`
	Scopes                 []string `json:"scopes,omitempty" name:"scope" help:"Allowed scope (repeatable; replaces the list). API scopes (roster, consent:read, support, admin) only without the authorization_code grant." placeholder:"SCOPE"`
	PKCE                   *string  `json:"pkce,omitempty" name:"pkce" help:"PKCE policy: required, or optional for a confidential OIDC client that sends a nonce (docs/oauth.md)." placeholder:"POLICY"`
	IDTokenAlg             *string  `json:"id_token_alg,omitempty" name:"id-token-alg" help:"ID token signature: ES256 or RS256 (\"\": the broker's signing_alg)." placeholder:"ALG"`
}

// apply sets the given settings on c and answers whether any was given.
func (cs ClientSettings) apply(c *store.Client) bool {
	given := false
	src, dst := reflect.ValueOf(cs), reflect.ValueOf(c).Elem()
	for i := range src.NumField() {
		v := src.Field(i)
		if v.IsNil() {
			continue
		}
		if v.Kind() == reflect.Pointer {
			v = v.Elem()
		}
		dst.FieldByName(src.Type().Field(i).Name).Set(v)
		given = true
	}
	return given
}

// grants are the grant types a client may have.
var grants = []string{"authorization_code", "refresh_token", "client_credentials"}

// checkClient refuses a client the provider could not serve as registered.
func checkClient(c store.Client) error {
	var errs []error
	for _, g := range c.GrantTypes {
		if !slices.Contains(grants, g) {
			errs = append(errs, invalid("grant_types", "%q is not supported (authorization_code, refresh_token, client_credentials)", g))
		}
	}
	if len(c.GrantTypes) == 0 {
		errs = append(errs, invalid("grant_types", "must name at least one grant"))
	}
	login := oauth.IsLoginClient(c)
	if login && len(c.RedirectURIs) == 0 {
		errs = append(errs, invalid("redirect_uris", "are required for the authorization_code grant"))
	}
	for _, u := range append(slices.Clone(c.RedirectURIs), c.PostLogoutRedirectURIs...) {
		if err := oauth.CheckRedirectURI(u); err != nil {
			errs = append(errs, invalid("redirect_uris", "%v", err))
		}
	}
	if err := oauth.CheckClientScopes(c); err != nil {
		errs = append(errs, &SettingError{Setting: "scopes", Problem: err.Error(), Err: err})
	}
	if c.Operator() && (login || !slices.Contains(c.GrantTypes, "client_credentials")) {
		errs = append(errs, invalid("grant_types", "of an operator-level client must be client_credentials only: it logs nobody in"))
	}
	if c.Public && slices.Contains(c.GrantTypes, "client_credentials") {
		errs = append(errs, invalid("grant_types", "client_credentials needs a confidential client (with a secret)"))
	}
	if len(errs) == 0 {
		if err := store.ValidateClient(c); err != nil {
			var fe *store.FieldError
			if errors.As(err, &fe) {
				return &SettingError{Setting: fe.Field, Problem: fe.Problem}
			}
			return err
		}
	}
	return errors.Join(errs...)
}

// ClientView is a client as `clients show` and the admin API show it:
// every field of store.Client by its snake_case name, secrets as the dates
// of their rotation only (a new store.Client field shows up by itself).
type ClientView map[string]any

// hidden are the fields of store.Client a view leaves out: the hashes of
// its secrets.
var hidden = map[string]bool{"SecretHash": true, "PreviousSecretHash": true}

// ViewOfClient is c as shown.
func ViewOfClient(c store.Client) ClientView {
	v := ClientView{}
	rv := reflect.ValueOf(c)
	for i := range rv.NumField() {
		f := rv.Type().Field(i)
		if hidden[f.Name] {
			continue
		}
		val := rv.Field(i).Interface()
		switch x := val.(type) {
		case time.Time:
			if x.IsZero() {
				val = nil
			}
		case []string:
			if x == nil {
				val = []string{}
			}
		}
		v[snake(f.Name)] = val
	}
	v["tenant_id"] = nullable(c.TenantID)
	v["operator"] = c.Operator()
	v["disabled"] = c.Disabled()
	v["has_secret"] = len(c.SecretHash) > 0
	return v
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// snake is a Go field name in snake_case: RedirectURIs → redirect_uris,
// IDTokenAlg → id_token_alg, TenantID → tenant_id, PKCE → pkce.
func snake(name string) string {
	name = strings.NewReplacer("URIs", "Uris", "ID", "Id").Replace(name)
	var b strings.Builder
	runes := []rune(name)
	for i, r := range runes {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(runes[i-1]) || (i+1 < len(runes) && unicode.IsLower(runes[i+1]))) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// changed is the part of two views that differs, for the audit.
func changed(before, after ClientView) beforeAfter[ClientView] {
	d := beforeAfter[ClientView]{Before: ClientView{}, After: ClientView{}}
	for k, a := range after {
		if b := before[k]; fmt.Sprint(a) != fmt.Sprint(b) {
			d.Before[k], d.After[k] = b, a
		}
	}
	return d
}
