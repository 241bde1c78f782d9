// Package store holds the broker's durable entities (tenants, clients,
// roster records, links, login attempts, keys, OAuth token records) and the
// narrow interfaces through which the rest of the broker reads and writes
// them. The postgres and memory subpackages implement every interface, and
// storetest is the one conformance suite both must pass.
package store
