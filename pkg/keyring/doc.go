// Package keyring keeps the broker's own keys — ID-token signing keys,
// personal-data encryption and blind-index keys, the pairwise-subject
// secret — sealed under the key-encryption key (BROKER_KEK) in the store,
// and uses them.
package keyring
