// Package support answers «why was this person not found?» for support
// staff: a login attempt by its reference code with the field-by-field
// explanation, and roster records by SNILS or by ФИО and birth date with
// their links, candidates and recent attempts. Personal data comes back
// masked, reads are bound to the caller's tenant, and every read is written
// to the append-only audit log.
package support
