package esia

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// clientSecret signs the concatenation of parts (no separators, UTF-8) and
// encodes the signature as base64url, padded only if Config.SecretPadding.
// The caller passes the parts in the order ESIA.md prescribes per call, e.g.
// client_id + scope + [scope_org] + timestamp + state + redirect_uri (v2/ac).
func (c *Config) clientSecret(ctx context.Context, parts ...string) (string, error) {
	msg := strings.Join(parts, "")
	sig, err := c.Signer.Sign(ctx, []byte(msg))
	if err != nil {
		return "", fmt.Errorf("client_secret: %w", err)
	}
	if len(sig) == 0 {
		return "", errors.New("client_secret: signer returned an empty signature")
	}
	if c.SecretPadding {
		return base64.URLEncoding.EncodeToString(sig), nil
	}
	return base64.RawURLEncoding.EncodeToString(sig), nil
}
