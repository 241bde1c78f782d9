package esia

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDecodeSignature(t *testing.T) {
	sig := make([]byte, SignatureSize)
	for i := range sig {
		sig[i] = byte(i*7 + 0xF0) // covers '+', '/', '-' and '_' in base64
	}
	hexSig := hex.EncodeToString(sig)
	wrapped := base64.StdEncoding.EncodeToString(sig)
	wrapped = wrapped[:64] + "\n" + wrapped[64:] + "\n" // as `openssl base64` writes it
	tests := []struct {
		name string
		out  string
		enc  SignatureEncoding
		ok   bool
	}{
		{"raw", string(sig), EncodingRaw, true},
		{"raw, auto", string(sig), EncodingAuto, true},
		{"raw with a newline", string(sig) + "\n", EncodingRaw, false},
		{"raw with a newline, auto", string(sig) + "\n", EncodingAuto, false},
		{"raw, one byte short", string(sig[:63]), EncodingRaw, false},
		{"hex", hexSig + "\n", EncodingHex, true},
		{"upper-case hex, auto", strings.ToUpper(hexSig), EncodingAuto, true},
		{"openssl dgst -hex", "md_gost12_256(stdin)= " + hexSig + "\n", EncodingAuto, true},
		{"hex, odd digit", hexSig[:127] + "g", EncodingHex, false},
		{"hex of 63 bytes", hexSig[:126], EncodingAuto, false},
		{"base64 padded (88)", base64.StdEncoding.EncodeToString(sig), EncodingBase64, true},
		{"base64url unpadded (86)", base64.RawURLEncoding.EncodeToString(sig), EncodingBase64, true},
		{"base64url padded, auto", base64.URLEncoding.EncodeToString(sig), EncodingAuto, true},
		{"base64 wrapped lines, auto", wrapped, EncodingAuto, true},
		{"base64 of 63 bytes", base64.StdEncoding.EncodeToString(sig[:63]), EncodingAuto, false},
		{"base64 given as hex", base64.StdEncoding.EncodeToString(sig), EncodingHex, false},
		{"hex given as base64", hexSig, EncodingBase64, false},
		{"a CMS blob", "\x30\x82\x01\x00" + string(sig) + string(sig), EncodingAuto, false},
		{"empty", "", EncodingAuto, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeSignature([]byte(tc.out), tc.enc)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && !bytes.Equal(got, sig) {
				t.Fatalf("decoded %x", got)
			}
			if err != nil && strings.Contains(err.Error(), hexSig[:16]) {
				t.Fatalf("error quotes the output: %v", err)
			}
		})
	}
}

func TestParseSignatureEncoding(t *testing.T) {
	for in, want := range map[string]SignatureEncoding{
		"": EncodingAuto, "auto": EncodingAuto, "RAW": EncodingRaw, "base64url": EncodingBase64, " hex ": EncodingHex,
	} {
		if got, err := ParseSignatureEncoding(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := ParseSignatureEncoding("der"); err == nil {
		t.Error("der accepted")
	}
}

func TestDiagnostic(t *testing.T) {
	msg := []byte("DIARY01openid2026.11.24 10:00:00 +0300state-uuidhttps://x/cbCODE-JWT")
	got := diagnostic([]byte("error:\x00 signing\n\n"+string(msg)+"\tfailed\xff"), msg)
	if got != "error: signing [message] failed" {
		t.Fatalf("diagnostic = %q", got)
	}
	long := diagnostic(bytes.Repeat([]byte("x"), 1000), nil)
	if len(long) > 310 || !strings.HasSuffix(long, "…") {
		t.Fatalf("not cut: %d bytes", len(long))
	}
}

func TestAcquire(t *testing.T) {
	sem := make(chan struct{}, 1)
	release, err := acquire(context.Background(), sem, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acquire(context.Background(), sem, 20*time.Millisecond); !errors.Is(err, ErrSignerBusy) {
		t.Fatalf("second acquire: %v, want ErrSignerBusy", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := acquire(ctx, sem, time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled acquire: %v", err)
	}
	release()
	release2, err := acquire(context.Background(), sem, 20*time.Millisecond)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	release2()
}
