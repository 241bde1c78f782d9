package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// tokenEndpoint posts to the broker's token endpoint as a diary's back end
// does — HTTP Basic client authentication, the id and secret form-encoded
// (RFC 6749 §2.3.1, as golang.org/x/oauth2 sends them) — with what stays
// the same from one request to the next made once: the URL and the
// Authorization header. The load generator shares the broker's cores, so
// its own CPU per operation is kept small (issue 13): no url.Values, no
// oauth2.Config.Exchange (which decodes each answer twice, once into a
// map), and each answer read to its end — the connection goes back to
// the pool — into a buffer of the worker's.
type tokenEndpoint struct {
	client *http.Client
	url    string
	auth   []string // the Authorization header
}

func newTokenEndpoint(l *loader) *tokenEndpoint {
	basic := url.QueryEscape(l.c.clientID) + ":" + url.QueryEscape(l.c.secret)
	return &tokenEndpoint{client: &http.Client{Transport: l.tr, Timeout: 30 * time.Second}, url: l.c.target + "/oauth2/token",
		auth: []string{"Basic " + base64.StdEncoding.EncodeToString([]byte(basic))}}
}

var formContentType = []string{"application/x-www-form-urlencoded"}

// tokenAnswer is what the load generator reads of a token response.
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
}

// post sends form (encoded) and decodes the answer into out, reading it
// through buf. An answer other than 200 with JSON is an error.
func (e *tokenEndpoint) post(form string, buf *bytes.Buffer, out *tokenAnswer) error {
	req, err := http.NewRequest(http.MethodPost, e.url, strings.NewReader(form))
	if err != nil {
		return err
	}
	req.Header = http.Header{"Content-Type": formContentType, "Authorization": e.auth}
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	*out = tokenAnswer{}
	if err := json.Unmarshal(buf.Bytes(), out); err != nil {
		return fmt.Errorf("token %d: %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("token %d %s", resp.StatusCode, out.Error)
	}
	return nil
}

// refresh rotates the refresh token rt: the answer must carry a new
// refresh token and an access token.
func (e *tokenEndpoint) refresh(rt string, buf *bytes.Buffer, out *tokenAnswer) error {
	if err := e.post("grant_type=refresh_token&refresh_token="+url.QueryEscape(rt), buf, out); err != nil {
		return err
	}
	if out.RefreshToken == "" || out.AccessToken == "" {
		return fmt.Errorf("refresh failed: %s", out.Error)
	}
	return nil
}

// exchange redeems code with its PKCE verifier: the answer must carry an
// access token (as oauth2.Config.Exchange requires).
func (e *tokenEndpoint) exchange(code, verifier, redirect string, buf *bytes.Buffer, out *tokenAnswer) error {
	form := "grant_type=authorization_code&code=" + url.QueryEscape(code) + "&code_verifier=" + url.QueryEscape(verifier) +
		"&redirect_uri=" + url.QueryEscape(redirect)
	if err := e.post(form, buf, out); err != nil {
		return err
	}
	if out.AccessToken == "" {
		return fmt.Errorf("exchange failed: %s", out.Error)
	}
	return nil
}
