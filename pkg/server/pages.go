package server

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/oauth"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages are parsed once: each page template is layout + its content.
var pages = func() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		if n == "templates/layout.html" {
			continue
		}
		t := template.Must(template.New("").ParseFS(templateFS, "templates/layout.html", n))
		out[n[len("templates/"):len(n)-len(".html")]] = t
	}
	return out
}()

// Page is what every page template gets.
type Page struct {
	Brand   string
	Title   string
	Text    string
	Ref     string // formatted XXXXX-XXXXX
	BackURL string
	// BackText names the way back; "" is «Вернуться в дневник».
	BackText string
	// BackPost, when set, is posted to BackURL by the «Вернуться в
	// дневник» button: the diary asked for response_mode=form_post
	// (render sets it from a form post way back, oauth.FormPostBack).
	BackPost url.Values
	// Hint replaces the error page's closing advice («…начните вход
	// заново»), for a page that is not about a login.
	Hint string
	Data any
}

// render writes a page with status and headers that keep it out of caches.
func render(c echo.Context, status int, name string, p Page) error {
	if p.Brand == "" {
		p.Brand = "Вход в электронный дневник"
	}
	if action, params, ok := oauth.FormPostBack(p.BackURL); ok {
		p.BackURL, p.BackPost = action, params
	}
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// errorPage renders the Russian error page.
func errorPage(c echo.Context, status int, title, text, ref, back string) error {
	p := Page{Title: title, Text: text, Ref: ref, BackURL: back}
	if strings.HasPrefix(back, "/support") {
		// The support console's own pages lead back into it, not to a diary.
		p.Brand, p.BackText = "Консоль поддержки", "Вернуться в консоль поддержки"
	}
	return render(c, status, "error", p)
}

func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	return http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
}
