package esia

import (
	"bytes"
	"encoding/json"
	"errors"
)

// collection is ESIA's collection shape:
// {"stateFacts":["hasSize"],"size":N,"eTag":"…","elements":[…]}, where the
// elements are objects (with ?embed=) or URLs to fetch one by one (without).
type collection struct {
	ETag    string
	objects [][]byte // embedded elements
	links   []string // element URLs
}

type collectionJSON struct {
	ETag     string            `json:"eTag"`
	Elements []json.RawMessage `json:"elements"`
}

// UnmarshalJSON splits elements into embedded objects and URLs.
func (c *collection) UnmarshalJSON(b []byte) error {
	var cj collectionJSON
	if err := json.Unmarshal(b, &cj); err != nil {
		return errors.New("collection is not an ESIA collection")
	}
	*c = collection{ETag: cj.ETag}
	for _, e := range cj.Elements {
		e = bytes.TrimSpace(e)
		switch {
		case isJSONObject(e):
			c.objects = append(c.objects, e)
		case len(e) > 0 && e[0] == '"':
			var link string
			if err := json.Unmarshal(e, &link); err != nil {
				return errors.New("collection element is not a URL")
			}
			c.links = append(c.links, link)
		default:
			return errors.New("collection element is neither an object nor a URL")
		}
	}
	return nil
}

// decodeCollection decodes a collection answer.
func decodeCollection(body []byte) (*collection, error) {
	var c collection
	if err := strictUnmarshal(body, &c); err != nil {
		return nil, invalidAnswer("answer is not an ESIA collection")
	}
	return &c, nil
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}
