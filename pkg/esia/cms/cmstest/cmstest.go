// Package cmstest builds CMS SignedData signatures (RFC 5652) for tests: the
// client_secret of ESIA's legacy v1 endpoints, without openssl on the
// machine. It writes what `openssl cms -sign -binary -outform DER` writes
// (with -noattr, -keyid, -nodetach as options), RSA with SHA-256 or GOST
// R 34.10-2012 with Streebog-256.
package cmstest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/diarybroker/broker/pkg/esia/cms"
	"github.com/diarybroker/broker/pkg/esia/gost"
)

// Options choose the shape of the signature.
type Options struct {
	// SignedAttributes adds content-type, signing-time and message-digest
	// (openssl without -noattr).
	SignedAttributes bool
	// SigningTime is the signing-time attribute; zero means now.
	SigningTime time.Time
	// SubjectKeyID identifies the signer by subject key identifier
	// (SignerInfo version 3, openssl -keyid) instead of issuer and serial.
	SubjectKeyID bool
	// Attached encapsulates the content (openssl -nodetach): not a detached
	// signature.
	Attached bool
	// NoCertificates leaves the signer's certificate out (openssl -nocerts).
	NoCertificates bool
	// SignatureAlgorithm overrides the SignerInfo's signature algorithm:
	// default rsaEncryption or 1.2.643.7.1.1.1.1, as OpenSSL writes.
	SignatureAlgorithm asn1.ObjectIdentifier
}

// Sign returns a DER ContentInfo with a SignedData signature of content by
// key (*rsa.PrivateKey or *gost.PrivateKey), whose certificate is certDER.
func Sign(content, certDER []byte, key crypto.Signer, opts Options) ([]byte, error) {
	cert, err := cms.ParseCertificate(certDER)
	if err != nil {
		return nil, err
	}
	var digestAlg, sigAlg asn1.ObjectIdentifier
	var hash func([]byte) []byte
	var sign func(digest []byte) ([]byte, error)
	var digestNull bool
	switch k := key.(type) {
	case *rsa.PrivateKey:
		digestAlg, sigAlg = cms.OIDSHA256, cms.OIDRSAEncryption
		hash = func(b []byte) []byte { h := sha256.Sum256(b); return h[:] }
		sign = func(d []byte) ([]byte, error) { return rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, d) }
	case *gost.PrivateKey:
		digestAlg, sigAlg, digestNull = cms.OIDStreebog256, cms.OIDGost2012_256, true
		hash = func(b []byte) []byte { h := gost.Sum256(b); return h[:] }
		sign = func(d []byte) ([]byte, error) { return gost.Sign(rand.Reader, k, d) }
	default:
		return nil, fmt.Errorf("cmstest: unsupported key %T", key)
	}
	if opts.SignatureAlgorithm != nil {
		sigAlg = opts.SignatureAlgorithm
	}
	digest := hash(content)
	var signedAttrs []byte // the attributes as a SET OF
	if opts.SignedAttributes {
		t := opts.SigningTime
		if t.IsZero() {
			t = time.Now()
		}
		signedAttrs, err = attributes(digest, t)
		if err != nil {
			return nil, err
		}
		digest = hash(signedAttrs)
	}
	sig, err := sign(digest)
	if err != nil {
		return nil, err
	}

	algorithm := func(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, null bool) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			if null {
				b.AddASN1NULL()
			}
		})
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ContentInfo
		b.AddASN1ObjectIdentifier(cms.OIDSignedData)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignedData
				version := int64(1)
				if opts.SubjectKeyID {
					version = 3
				}
				b.AddASN1Int64(version)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { algorithm(b, digestAlg, digestNull) })
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(cms.OIDData)
					if opts.Attached {
						b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddASN1OctetString(content)
						})
					}
				})
				if !opts.NoCertificates {
					b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddBytes(certDER)
					})
				}
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignerInfo
						b.AddASN1Int64(version)
						if opts.SubjectKeyID {
							b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(cert.SubjectKeyID) })
						} else {
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								b.AddBytes(cert.RawIssuer)
								b.AddASN1BigInt(cert.SerialNumber)
							})
						}
						algorithm(b, digestAlg, digestNull)
						if signedAttrs != nil {
							// [0] IMPLICIT SET OF Attribute: the same content under
							// another tag.
							var inner cryptobyte.String
							s := cryptobyte.String(signedAttrs)
							s.ReadASN1(&inner, cbasn1.SET)
							b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(inner) })
						}
						algorithm(b, sigAlg, true)
						b.AddASN1OctetString(sig)
					})
				})
			})
		})
	})
	return b.Bytes()
}

// attributes returns the DER SET OF signed attributes: content-type (id-data),
// signing-time and message-digest, sorted as DER requires.
func attributes(digest []byte, t time.Time) ([]byte, error) {
	attr := func(oid asn1.ObjectIdentifier, value func(*cryptobyte.Builder)) ([]byte, error) {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1(cbasn1.SET, value)
		})
		return b.Bytes()
	}
	ct, err := attr(cms.OIDContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(cms.OIDData) })
	if err != nil {
		return nil, err
	}
	st, err := attr(cms.OIDSigningTime, func(b *cryptobyte.Builder) { b.AddASN1UTCTime(t.UTC()) })
	if err != nil {
		return nil, err
	}
	md, err := attr(cms.OIDMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) })
	if err != nil {
		return nil, err
	}
	list := [][]byte{ct, st, md}
	slices.SortFunc(list, bytes.Compare)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, a := range list {
			b.AddBytes(a)
		}
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, errors.Join(errors.New("cmstest: signed attributes"), err)
	}
	return out, nil
}
