// Package gost owns the Russian GOST cryptography the ESIA broker needs: the Streebog
// hash (GOST R 34.11-2012), GOST R 34.10-2012 signatures with 256-bit keys, and the
// PKCS#8, PKIX and X.509 encodings of those keys, interoperable with OpenSSL's gost engine.
//
// Byte orders follow OpenSSL's gost engine (see ESIA.md): digests are the bytes
// `openssl dgst -engine gost -md_gost12_256` prints, a digest is read as a little-endian
// integer, a signature is s||r with both halves big-endian, and a public key is the
// little-endian X||Y. CryptoPro emits signatures byte-reversed; see Reverse.
package gost
