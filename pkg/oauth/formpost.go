package oauth

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
)

// response_mode=form_post (OAuth 2.0 Form Post Response Mode): the
// authorization response — a code or an error — is a page whose form posts
// the parameters to the diary's redirect URI. One inline script submits it
// at once; the page's Content-Security-Policy allows that script by its
// hash and no other, and without JavaScript the person presses the visible
// «Продолжить» button. fosite's own form_post page submits from an inline
// onload handler, which the broker's CSP forbids, so the broker writes its
// own (WriteFormPost).

// formPostScript is the page's only script.
const formPostScript = `document.forms[0].submit();`

// FormPostScriptHash is the CSP source of formPostScript.
var FormPostScriptHash = func() string {
	sum := sha256.Sum256([]byte(formPostScript))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// FormPostCSP is the Content-Security-Policy of the form_post page: the
// broker's usual policy and the hash of the submitting script. form-action
// is left open (default-src does not cover it): Chrome applies it to the
// redirects that follow the post too, and a diary's callback may send the
// person on to another of its hosts.
var FormPostCSP = "default-src 'none'; script-src " + FormPostScriptHash +
	"; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'"

var formPostPage = template.Must(template.New("form_post").Parse(`<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Возвращаемся в дневник</title>
<link rel="stylesheet" href="/static/broker.css">
</head>
<body>
<main id="main">
<h1>Возвращаемся в дневник</h1>
<form method="post" action="{{.Action}}">
{{range $k, $vs := .Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">
{{end}}{{end}}<p>Если дневник не открылся сам, нажмите «Продолжить».</p>
<button type="submit">Продолжить</button>
</form>
</main>
<script>` + formPostScript + `</script>
</body>
</html>
`))

// WriteFormPost writes the form_post page that posts params to action (the
// diary's redirect URI, with its own query if it has one).
func WriteFormPost(w http.ResponseWriter, action string, params url.Values) {
	var buf bytes.Buffer
	if err := formPostPage.Execute(&buf, struct {
		Action string
		Params url.Values
	}{action, params}); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", FormPostCSP)
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}
