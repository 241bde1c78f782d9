package webhook_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/diarybroker/broker/pkg/webhook"
)

// A diary's webhook receiver checks the signature before trusting a body,
// then deduplicates by the event id (delivery is at least once).
func ExampleVerify() {
	secret := []byte("the tenant's webhook secret")
	seen := map[string]bool{}
	receiver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err := webhook.Verify(secret, r.Header.Get(webhook.Header), body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		id := strings.SplitN(strings.SplitN(string(body), `"id":"`, 2)[1], `"`, 2)[0]
		if !seen[id] {
			seen[id] = true
			fmt.Println("new event", id)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	body := `{"id":"9b2f","type":"consent.granted","tenant":"msk","created_at":"2026-11-24T10:00:00Z","data":{}}`
	for i := 0; i < 2; i++ { // delivered twice: handled once
		req := httptest.NewRequest(http.MethodPost, "/broker-hooks", strings.NewReader(body))
		req.Header.Set(webhook.Header, webhook.Sign(secret, time.Now(), []byte(body)))
		rec := httptest.NewRecorder()
		receiver.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// new event 9b2f
	// 204
	// 204
}
