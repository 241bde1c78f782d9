package esiasim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// faultJSON is a Fault on the control API, durations as Go strings ("2s").
type faultJSON struct {
	Endpoint    string  `json:"endpoint,omitempty"`
	Status      int     `json:"status,omitempty"`
	Code        string  `json:"code,omitempty"`
	Body        string  `json:"body,omitempty"`
	ContentType string  `json:"content_type,omitempty"`
	Drop        bool    `json:"drop,omitempty"`
	Delay       string  `json:"delay,omitempty"`
	Hang        bool    `json:"hang,omitempty"`
	Rate        float64 `json:"rate,omitempty"`
	Times       int     `json:"times,omitempty"`
}

var endpoints = map[string]bool{"": true, EndpointAuthorize: true, EndpointToken: true, EndpointPerson: true,
	EndpointDocs: true, EndpointContacts: true, EndpointAddresses: true, EndpointKids: true, EndpointLogout: true}

func (j faultJSON) fault() (Fault, error) {
	f := Fault{Endpoint: j.Endpoint, Status: j.Status, Code: j.Code, Body: j.Body, ContentType: j.ContentType,
		Drop: j.Drop, Hang: j.Hang, Rate: j.Rate, Times: j.Times}
	switch {
	case !endpoints[j.Endpoint]:
		return f, fmt.Errorf("endpoint must be one of ac, te, prns, docs, ctts, addrs, kids, logout or empty")
	case j.Status != 0 && (j.Status < 100 || j.Status > 599):
		return f, errors.New("status must be an HTTP status")
	case j.Code != "" && !isESIACode(j.Code):
		return f, errors.New("code must look like ESIA-007008")
	case j.Rate < 0 || j.Rate > 1:
		return f, errors.New("rate must be between 0 and 1")
	case j.Times < 0:
		return f, errors.New("times must not be negative")
	}
	if j.Delay != "" {
		d, err := time.ParseDuration(j.Delay)
		if err != nil || d < 0 {
			return f, errors.New(`delay must be a duration such as "2s"`)
		}
		f.Delay = d
	}
	return f, nil
}

func faultToJSON(f Fault) faultJSON {
	j := faultJSON{Endpoint: f.Endpoint, Status: f.Status, Code: f.Code, Body: f.Body, ContentType: f.ContentType,
		Drop: f.Drop, Hang: f.Hang, Rate: f.Rate, Times: f.Times}
	if f.Delay > 0 {
		j.Delay = f.Delay.String()
	}
	return j
}

// controlState is the answer of GET /sim/faults.
type controlState struct {
	Faults  []faultJSON `json:"faults"`
	Latency string      `json:"latency"`
}

func (s *Simulator) controlState() controlState {
	st := controlState{Faults: []faultJSON{}, Latency: s.Latency().String()}
	for _, f := range s.Faults() {
		st.Faults = append(st.Faults, faultToJSON(f))
	}
	return st
}

// faultsAPI serves /sim/faults: GET lists the faults and the latency, POST
// adds one fault (JSON, as faultJSON), DELETE clears them. It lets a load
// or fault test drive a simulator running in another process
// (`broker esia-sim`, `broker dev`).
func (s *Simulator) faultsAPI(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, s.controlState())
	case http.MethodPost:
		var j faultJSON
		if err := decodeControl(w, r, &j); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		f, err := j.fault()
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		s.InjectFault(f)
		writeJSON(w, http.StatusCreated, s.controlState())
	case http.MethodDelete:
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// latencyAPI serves PUT /sim/latency {"latency":"30ms"}.
func (s *Simulator) latencyAPI(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Latency string `json:"latency"`
	}
	if err := decodeControl(w, r, &body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	d, err := time.ParseDuration(body.Latency)
	if err != nil || d < 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `latency must be a duration such as "30ms" ("0s" for none)`})
		return
	}
	s.SetLatency(d)
	writeJSON(w, http.StatusOK, s.controlState())
}

func decodeControl(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("body must be a JSON object: %w", err)
	}
	return nil
}
