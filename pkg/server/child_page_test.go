package server_test

import (
	"bytes"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/diarybroker/broker/pkg/server"
)

// decodeQR reads the text of the QR code in a PNG.
func decodeQR(t *testing.T, b []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("no QR code in the image: %v", err)
	}
	return res.GetText()
}

// TestChildPageLinkAndQR: the child's «Нужно согласие родителя» names
// the parent who can consent, masked («Кузнецов А. С.»), links the parent
// page, and shows its QR code — an image from the broker itself (the CSP
// allows 'self' only) that decodes to that link — and the link opens the
// parent's sign-in. It does not promise a notice «через Госуслуги».
func TestChildPageLinkAndQR(t *testing.T) {
	b := startBroker(t, true, nil)
	o := loginAs(t, b, newDiary(b), oidChild)
	link := b.URL + "/parent?tenant=" + server.DevTenant
	body := htmlUnescape(o.Body)
	for _, want := range []string{"Кузнецов А. С.", `href="` + link + `"`, `src="/parent/qr.png?tenant=` + server.DevTenant + `"`,
		"Нажать «Дать согласие»"} {
		if !strings.Contains(body, want) {
			t.Errorf("child's page lacks %q", want)
		}
	}
	main := body[strings.Index(body, "<main"):strings.Index(body, "</main>")]
	for _, bad := range []string{"Кузнецов Андрей", "Сергеевич", "через Госуслуги"} {
		if strings.Contains(main, bad) {
			t.Errorf("child's page says %q", bad)
		}
	}

	resp, err := http.Get(b.URL + "/parent/qr.png?tenant=" + server.DevTenant)
	if err != nil {
		t.Fatal(err)
	}
	img, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if got := decodeQR(t, img); got != link {
		t.Fatalf("QR code says %q, want %q", got, link)
	}
	if resp, err := http.Get(b.URL + "/parent/qr.png?tenant=no-such"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("qr of an unknown tenant: %v %v", resp.StatusCode, err)
	}

	// The link opens the parent's sign-in through ESIA (the simulator).
	br := newBrowser(t)
	br.stopAt = b.URL + "/esia-sim/"
	if p := br.get(link); p.Redirect == nil || !strings.HasPrefix(p.Redirect.String(), b.URL+"/esia-sim/") {
		t.Fatalf("parent link: %d %v", p.Status, p.Redirect)
	}
}
