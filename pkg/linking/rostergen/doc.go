// Package rostergen makes synthetic rosters for load tests and for checking
// the matching ladder: a region's students, parents, teachers and staff
// with realistic Russian names (ё, double surnames, no patronymic), valid
// SNILS and birth certificates (NDJSON, docs/roster-format.md); an ESIA
// persons file for a sample of them (docs/esia-persons-format.md); and a
// manifest of the deliberate errors in the roster and the outcome the
// ladder must give for each person. The same seed gives the same files.
package rostergen
