package oauth

import (
	"fmt"

	gojson "github.com/goccy/go-json"
)

// The stored request's codec. A refresh decodes its grant's stored request
// and a code exchange decodes its code's and encodes its grant's, each
// about 1.3 KB of JSON: with encoding/json that was ≈ 33 µs to decode and
// ≈ 17 µs to encode, a tenth of the broker's CPU for a refresh and a
// seventh for an exchange (issue 13). github.com/goccy/go-json reads and
// writes the same JSON (storedjson_test.go holds it to that, byte for byte
// and value for value) in less than half the time.
//
// It is used only on JSON the broker wrote itself: stored requests, which
// the PostgreSQL store keeps sealed (authenticated encryption), and the
// claims of the ID tokens it signs. Input from the network — token
// payloads, headers, forms — stays with encoding/json.

// marshalStored encodes a stored request (or the claims of an ID token).
func marshalStored(v any) ([]byte, error) {
	b, err := gojson.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("oauth: encode: %w", err)
	}
	return b, nil
}

// unmarshalStored decodes what marshalStored (or encoding/json, before)
// wrote into v.
func unmarshalStored(data []byte, v any) error {
	return gojson.Unmarshal(data, v)
}
