// Package keygenfile reads Keygen licence files: the armoured, signed and
// (usually) encrypted documents Keygen issues for offline use and
// keygen-relay hands to nodes.
//
// A licence file is
//
//	-----BEGIN LICENSE FILE-----
//	<base64 of {"enc": ..., "sig": ..., "alg": ...}, wrapped>
//	-----END LICENSE FILE-----
//
// For alg "aes-256-gcm+ed25519", enc is base64(ciphertext) "." base64(iv)
// "." base64(tag): AES-256-GCM under SHA-256 of the licence key. For alg
// "base64+ed25519", enc is the plaintext in base64. In both, sig is the
// vendor account's Ed25519 signature of "license/" + enc, so a file is
// verified before it is decrypted and a wrong key cannot be confused with a
// forged file. The plaintext is a JSON:API document whose data is the
// licence (id, attributes.key, attributes.expiry) and whose meta says when
// the file was issued and until when it may be used.
//
// Open does every step and returns a *License or an error that wraps one of
// the sentinel errors (ErrFormat, ErrAlgorithm, ErrSignature, ErrKey,
// ErrMismatch, ErrExpired), so a caller can report a bad file precisely.
// Issue is the vendor's side, for tests and tools that need real files.
package keygenfile
