package esia

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"time"
)

// ESIA sends identifiers sometimes as JSON numbers (oid 1000299681, id
// 2081561) and sometimes as strings; these types accept both, and never put
// the offending value into an error.

var errJSONType = errors.New("unexpected JSON type")

// flexString is a JSON string or number, kept as text; null is "".
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return errJSONType
	case string(b) == "null":
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return errJSONType
		}
		*s = flexString(v)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return errJSONType
		}
		*s = flexString(n.String())
	default:
		return errJSONType
	}
	return nil
}

// flexBool is a JSON boolean or the string "true"/"false"; null is false.
type flexBool bool

func (v *flexBool) UnmarshalJSON(b []byte) error {
	switch string(bytes.TrimSpace(b)) {
	case "true", `"true"`:
		*v = true
	case "false", `"false"`, "null":
		*v = false
	default:
		return errJSONType
	}
	return nil
}

// stringList is a JSON array of strings or a single string.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*l = nil
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return errJSONType
		}
		*l = stringList{s}
		return nil
	}
	var ss []string
	if err := json.Unmarshal(b, &ss); err != nil {
		return errJSONType
	}
	*l = ss
	return nil
}

// numericDate is a JWT NumericDate: seconds since the epoch, integer or not.
type numericDate struct {
	set bool
	t   time.Time
}

func (d *numericDate) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*d = numericDate{}
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errJSONType
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || f < 0 || f > 1<<40 {
		return errJSONType
	}
	sec, frac := math.Modf(f)
	*d = numericDate{set: true, t: time.Unix(int64(sec), int64(frac*1e9)).UTC()}
	return nil
}
