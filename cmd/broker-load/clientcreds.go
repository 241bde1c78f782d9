package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// defaults fills the client of the mode: the dev API client for
// client-credentials, the demo diary otherwise.
func (c *config) defaults() {
	if c.clientID == "" && c.secret == "" {
		c.clientID, c.secret = "demo-diary", "demo-secret"
		if c.mode == "client-credentials" {
			c.clientID, c.secret = "demo-api", "demo-api-secret"
		}
	}
}

// clientCredentials asks for API tokens (grant_type=client_credentials),
// as a diary's back end does before calling /api/v1.
func (l *loader) clientCredentials() error {
	client := &http.Client{Transport: l.tr, Timeout: 30 * time.Second}
	return l.timed(func() error { return l.clientToken(client) })
}

// clientToken gets one API token.
func (l *loader) clientToken(client *http.Client) error {
	body := url.Values{"grant_type": {"client_credentials"}, "scope": {l.c.scope}}.Encode()
	{
		req, _ := http.NewRequest(http.MethodPost, l.c.target+"/oauth2/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(l.c.clientID), url.QueryEscape(l.c.secret))
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var out struct {
			AccessToken string `json:"access_token"`
			Error       string `json:"error"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return err
		}
		if out.AccessToken == "" {
			return errors.New("client_credentials failed: " + out.Error)
		}
		return nil
	}
}
