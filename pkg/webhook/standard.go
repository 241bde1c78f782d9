package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of the Standard Webhooks specification
// (https://www.standardwebhooks.com), which every delivery carries, so
// that receivers verify it with a ready-made library in their language.
const (
	// HeaderID is the event's id, the same on every retry of it: the key
	// receivers deduplicate by.
	HeaderID = "webhook-id"
	// HeaderTimestamp is the time of this attempt, in Unix seconds.
	HeaderTimestamp = "webhook-timestamp"
	// HeaderSignature is "v1,<base64 HMAC-SHA256>" of id + "." + timestamp
	// + "." + body, under the key of the tenant's secret (SecretKey);
	// several space-separated signatures may come while a secret rotates.
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts a secret in the Standard Webhooks form:
// "whsec_" + the base64 of the key.
const SecretPrefix = "whsec_"

// SecretKey is the HMAC key of a tenant's webhook secret: the base64 after
// "whsec_", or — for a secret made before the broker used that form — the
// bytes of the secret itself (whose whsec_ form, for a library, is
// StandardSecret).
func SecretKey(secret string) []byte {
	if rest, ok := strings.CutPrefix(secret, SecretPrefix); ok {
		if key, err := base64.StdEncoding.DecodeString(rest); err == nil && len(key) > 0 {
			return key
		}
	}
	return []byte(secret)
}

// StandardSecret is secret in the whsec_ form the Standard Webhooks
// libraries take: itself when it has that form already.
func StandardSecret(secret string) string {
	return SecretPrefix + base64.StdEncoding.EncodeToString(SecretKey(secret))
}

// SignStandard returns the webhook-signature value of the delivery of body
// with id at t.
func SignStandard(key []byte, id string, t time.Time, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(standardMAC(key, id, strconv.FormatInt(t.Unix(), 10), body))
}

func standardMAC(key []byte, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte("."))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// SetStandardHeaders sets the three Standard Webhooks headers on h.
func SetStandardHeaders(h http.Header, key []byte, id string, t time.Time, body []byte) {
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(t.Unix(), 10))
	h.Set(HeaderSignature, SignStandard(key, id, t, body))
}

// ErrNoSignature is VerifyStandard's error for a request without the
// Standard Webhooks headers.
var ErrNoSignature = errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature")

// VerifyStandard checks a received delivery as the Standard Webhooks
// libraries do: a v1 signature among the header's must be the HMAC of
// id.timestamp.body under key (compared in constant time), and the
// timestamp within tolerance of now. Go receivers may use it.
func VerifyStandard(key []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, ts, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return ErrNoSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrMalformed
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	want := standardMAC(key, id, ts, body)
	for _, sig := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrBadSignature
}

// NewSecret is a new webhook secret in the Standard Webhooks form:
// whsec_ + base64 of 32 random bytes.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}
