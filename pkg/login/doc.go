// Package login orchestrates one person's login through the broker: the
// diary's validated request goes to ESIA, ESIA's answer is exchanged and
// read, the person is matched to their diary record, and the claims for the
// diary are built — or the reason it failed is recorded under a reference
// code for support. It knows no HTTP framework: the server renders pages
// from its results.
package login
