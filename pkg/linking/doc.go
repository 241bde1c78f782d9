// Package linking decides which diary record an ESIA person is, and
// explains why not when it cannot: it normalises SNILS, ФИО, birth
// certificates and dates, runs the matching ladder of DESIGN.md §5 over a
// tenant's roster, keeps the links it finds, and turns roster rows into
// searchable (blind-indexed) records.
package linking
