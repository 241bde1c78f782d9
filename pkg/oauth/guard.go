package oauth

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// guard holds an endpoint's answer back until the handler returns. When the
// store failed meanwhile, the answer fosite made of it — invalid_client,
// active:false, a 200 for a revocation that did not happen, invalid_token
// — is replaced by 503 temporarily_unavailable with Retry-After (the store
// could not be used) or 500 server_error (it failed otherwise), the
// failure is logged at ERROR with its cause and Config.StorageFailed is
// called. Use as
//
//	w, r, done := p.guard(w, r, "/oauth2/token")
//	defer done()
func (p *Provider) guard(w http.ResponseWriter, r *http.Request, endpoint string) (http.ResponseWriter, *http.Request, func()) {
	ctx, note := withFailureNote(r.Context())
	held := &heldResponse{header: http.Header{}}
	return held, r.WithContext(ctx), func() {
		if se := note.failure(); se != nil {
			p.writeStorageFailure(w, r, endpoint, se)
			return
		}
		held.sendTo(w)
	}
}

// writeStorageFailure answers a request the store failed.
func (p *Provider) writeStorageFailure(w http.ResponseWriter, r *http.Request, endpoint string, se *StorageError) {
	status, code, desc := http.StatusInternalServerError, "server_error", "The broker failed to read or write its records."
	if se.Unavailable() {
		status, code, desc = http.StatusServiceUnavailable, "temporarily_unavailable",
			"The broker's database is unavailable. Retry after the time in Retry-After; nothing is wrong with the request or the credentials."
		w.Header().Set("Retry-After", strconv.Itoa(int(RetryAfter.Seconds())))
	}
	p.log.ErrorContext(r.Context(), "oauth endpoint failed: storage", "endpoint", endpoint, "unavailable", se.Unavailable(), "error", se)
	if p.cfg.StorageFailed != nil {
		p.cfg.StorageFailed(endpoint, se)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// heldResponse is an http.ResponseWriter that keeps what is written.
type heldResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (h *heldResponse) Header() http.Header { return h.header }

func (h *heldResponse) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}

func (h *heldResponse) Write(b []byte) (int, error) {
	h.WriteHeader(http.StatusOK)
	return h.body.Write(b)
}

func (h *heldResponse) sendTo(w http.ResponseWriter) {
	for k, v := range h.header {
		w.Header()[k] = v
	}
	if h.status == 0 {
		h.status = http.StatusOK
	}
	w.WriteHeader(h.status)
	_, _ = w.Write(h.body.Bytes())
}
