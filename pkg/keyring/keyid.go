package keyring

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"
)

// newKeyID returns a unique, time-ordered key id such as "20261124-k7q2m3xa".
func newKeyID(now time.Time) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102") + "-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
