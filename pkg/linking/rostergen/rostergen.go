package rostergen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
)

// ErrorClass is a deliberate mistake in a roster row: what schools get
// wrong when they type a diary record.
type ErrorClass string

// The error classes.
const (
	ErrSNILSTypo          ErrorClass = "snils_typo"          // one SNILS digit wrong
	ErrSNILSTransposition ErrorClass = "snils_transposition" // two neighbouring SNILS digits swapped
	ErrYo                 ErrorClass = "yo"                  // е written for ё
	ErrLookalike          ErrorClass = "lookalike_letter"    // a Latin letter in a Cyrillic surname
	ErrDayMonthSwap       ErrorClass = "day_month_swap"      // birth date with day and month swapped
	ErrMissingPatronymic  ErrorClass = "missing_patronymic"  // отчество left out
	ErrDuplicateRecord    ErrorClass = "duplicate_record"    // the same person entered twice
	ErrMissingSNILS       ErrorClass = "missing_snils"       // SNILS left out
)

// AllErrors lists every error class, in the order they are dealt out.
var AllErrors = []ErrorClass{ErrSNILSTypo, ErrSNILSTransposition, ErrYo, ErrLookalike, ErrDayMonthSwap,
	ErrMissingPatronymic, ErrDuplicateRecord, ErrMissingSNILS}

// Config says what to generate. The zero value of a field means its default.
type Config struct {
	// Persons is the number of person rows in the roster (default 1000).
	Persons int
	// Seed makes the output reproducible.
	Seed uint64
	// ErrorShare is the share of people whose roster row carries one of
	// Errors (default 0: a clean roster). Only people with one roster
	// record get errors.
	ErrorShare float64
	// Errors are the classes dealt out (default AllErrors).
	Errors []ErrorClass
	// ESIASample is how many of the roster's people get an ESIA account in
	// the ESIA persons file, about (default 1000; at most everybody).
	ESIASample int
	// Strangers is how many ESIA persons are in no roster (default
	// ESIASample/50).
	Strangers int
	// AllowNameMatch is the tenant policy the manifest's outcomes assume
	// (store.MatchingPolicy.AllowNameMatch).
	AllowNameMatch bool
	// Today is the date ages are computed on (default 2026-09-01).
	Today store.Date
}

func (c Config) withDefaults() Config {
	if c.Persons <= 0 {
		c.Persons = 1000
	}
	if len(c.Errors) == 0 {
		c.Errors = AllErrors
	}
	if c.ESIASample <= 0 {
		c.ESIASample = 1000
	}
	if c.Strangers == 0 {
		c.Strangers = c.ESIASample / 50
	}
	if c.Strangers < 0 {
		c.Strangers = 0
	}
	if c.Today.IsZero() {
		c.Today = store.Date{Year: 2026, Month: 9, Day: 1}
	}
	return c
}

// Entry is one line of the manifest: a person who carries an error, is in
// the ESIA persons file, or both, with the ladder's expected answer when the
// person logs in (linking.Ladder.Match with no role).
type Entry struct {
	// ExternalID is the person's roster record ("" for a stranger).
	ExternalID string     `json:"external_id,omitempty"`
	Role       store.Role `json:"role,omitempty"`
	// OID is the person's ESIA oid when the person is in the ESIA file.
	OID   string     `json:"oid,omitempty"`
	Error ErrorClass `json:"error,omitempty"`

	Outcome linking.Outcome `json:"outcome"`
	Rung    string          `json:"rung,omitempty"`
	// Reason is the expected reason; "" when any reason will do (a
	// stranger's not_found depends on who else was born that day).
	Reason string `json:"reason,omitempty"`
	// Records are the records a linked or ambiguous outcome names, sorted.
	Records []string `json:"records,omitempty"`

	// Field, FieldResult and Difference are what the explanation of
	// ExternalID's record must say about the field the error is in.
	Field       string              `json:"field,omitempty"`
	FieldResult linking.FieldResult `json:"field_result,omitempty"`
	Difference  linking.Difference  `json:"difference,omitempty"`
}

// Summary counts what was generated.
type Summary struct {
	Persons   int                `json:"persons"`
	Relations int                `json:"relations"`
	ByRole    map[store.Role]int `json:"by_role"`
	Errors    map[ErrorClass]int `json:"errors"`
	ESIA      int                `json:"esia_persons"`
	Strangers int                `json:"strangers"`
	Manifest  int                `json:"manifest_entries"`
}

// human is one person of the generated world; a roster may hold several
// records of them (a teacher who is also a parent).
type human struct {
	idx                 int
	male                bool
	last, first, middle string
	birth               store.Date
	snils               string // 11 digits
	cert                *store.BirthCert
	phone, email        string
	school, class       string
	kids                []*human
	records             []record
	sampled             bool
	err                 ErrorClass
	// multi marks someone with several roster records (a mother who
	// teaches); they get no error, so that the outcome stays simple.
	multi bool
}

type record struct {
	id   string
	role store.Role
}

type gen struct {
	cfg      Config
	r        *rand.Rand
	roster   *bufio.Writer
	manifest *json.Encoder
	esia     []esiasim.Person
	sum      Summary
	humans   int
	students int
	counters map[store.Role]int
	nameKeys map[uint64]struct{}
	sampleP  float64
	errTurn  int
	docID    int
}

// Generate writes the roster to roster (NDJSON), the ESIA persons of the
// sample to esia (a JSON array esiasim.LoadPersons reads) and the manifest
// to manifest (NDJSON of Entry); any writer may be nil. It streams the
// roster: memory grows with the ESIA sample, not with the roster.
func Generate(cfg Config, roster, esia, manifest io.Writer) (Summary, error) {
	cfg = cfg.withDefaults()
	if cfg.ErrorShare < 0 || cfg.ErrorShare > 1 {
		return Summary{}, fmt.Errorf("rostergen: error share %v is not between 0 and 1", cfg.ErrorShare)
	}
	for _, e := range cfg.Errors {
		if !validClass(e) {
			return Summary{}, fmt.Errorf("rostergen: unknown error class %q", e)
		}
	}
	if roster == nil {
		roster = io.Discard
	}
	if manifest == nil {
		manifest = io.Discard
	}
	mw := bufio.NewWriterSize(manifest, 64<<10)
	g := &gen{
		cfg:      cfg,
		r:        rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		roster:   bufio.NewWriterSize(roster, 256<<10),
		manifest: json.NewEncoder(mw),
		counters: map[store.Role]int{},
		nameKeys: map[uint64]struct{}{},
		sampleP:  min(1, float64(cfg.ESIASample)/float64(cfg.Persons)),
		sum:      Summary{ByRole: map[store.Role]int{}, Errors: map[ErrorClass]int{}},
	}
	g.manifest.SetEscapeHTML(false)
	for g.sum.Persons < cfg.Persons {
		var err error
		switch x := g.r.Float64(); {
		case x < 0.11:
			err = g.worker(store.RoleTeacher)
		case x < 0.14:
			err = g.worker(store.RoleStaff)
		default:
			err = g.family()
		}
		if err != nil {
			return g.sum, err
		}
	}
	for i := 0; i < cfg.Strangers; i++ {
		h := g.adult(g.r.IntN(2) == 0, "", 25, 60)
		h.sampled = true
		if err := g.finish(h); err != nil {
			return g.sum, err
		}
	}
	if err := g.roster.Flush(); err != nil {
		return g.sum, fmt.Errorf("rostergen: roster: %w", err)
	}
	if err := mw.Flush(); err != nil {
		return g.sum, fmt.Errorf("rostergen: manifest: %w", err)
	}
	if esia != nil {
		if g.esia == nil {
			g.esia = []esiasim.Person{}
		}
		enc := json.NewEncoder(esia)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(g.esia); err != nil {
			return g.sum, fmt.Errorf("rostergen: esia persons: %w", err)
		}
	}
	g.sum.ESIA = len(g.esia)
	return g.sum, nil
}

func validClass(e ErrorClass) bool {
	for _, c := range AllErrors {
		if c == e {
			return true
		}
	}
	return false
}

// dateIn returns a uniformly random date between from and to (inclusive).
func (g *gen) dateIn(from, to store.Date) store.Date {
	a, b := from.Time(time.UTC), to.Time(time.UTC)
	days := int(b.Sub(a).Hours()/24) + 1
	return store.DateOf(a.AddDate(0, 0, g.r.IntN(days)))
}

func (g *gen) yearsAgo(years int) store.Date {
	t := g.cfg.Today.Time(time.UTC).AddDate(-years, 0, 0)
	return store.DateOf(t)
}

// unique reserves the normalised name and birth date of h, so that the
// name rung never finds two people by accident; false when taken.
func (g *gen) unique(h *human) bool {
	n, _, err := linking.NormaliseFullName(linking.FullName{Last: h.last, First: h.first})
	if err != nil {
		panic("rostergen: generated a name the normaliser rejects: " + err.Error())
	}
	f := fnv.New64a()
	f.Write([]byte(n.Last + "|" + n.First + "|" + h.birth.String()))
	k := f.Sum64()
	if _, taken := g.nameKeys[k]; taken {
		return false
	}
	g.nameKeys[k] = struct{}{}
	return true
}

// person makes a human with a unique name and birth date: on a clash it
// draws another given name, then moves the birth date.
func (g *gen) person(male bool, last string, names weighted, birth store.Date) *human {
	h := &human{idx: g.humans, male: male, last: last, birth: birth}
	g.humans++
	h.snils = snilsOf(h.idx)
	for try := 0; ; try++ {
		h.first = names.pick(g.r)
		if g.unique(h) {
			return h
		}
		if try > 10 {
			h.birth = store.DateOf(h.birth.Time(time.UTC).AddDate(0, 0, 1))
		}
	}
}

// adult makes an adult aged between minAge and maxAge; last "" draws a surname.
func (g *gen) adult(male bool, last string, minAge, maxAge int) *human {
	return g.adultBorn(male, last, g.dateIn(g.yearsAgo(maxAge), g.yearsAgo(minAge)))
}

// adultBorn makes an adult born on birth (or a little later, see person).
func (g *gen) adultBorn(male bool, last string, birth store.Date) *human {
	if last == "" {
		last = surnames.pick(g.r)
		if !male {
			last = feminine(last)
		}
	}
	names := womanNames
	if male {
		names = manNames
	}
	h := g.person(male, last, names, birth)
	if g.r.IntN(100) >= 2 { // about 2% of adults have no patronymic
		h.middle = patronymic(grandfatherNames.pick(g.r), male)
	}
	return h
}

func (g *gen) worker(role store.Role) error {
	male := g.r.IntN(100) < 25
	if role == store.RoleStaff {
		male = g.r.IntN(2) == 0
	}
	h := g.adult(male, "", 23, 65)
	h.email = fmt.Sprintf("%s%d@school.example.ru", idPrefix[role], h.idx)
	h.school = g.school()
	if err := g.write(h, role); err != nil {
		return err
	}
	return g.finish(h)
}

func (g *gen) school() string {
	return fmt.Sprintf("МБОУ СОШ № %d", 1+g.r.IntN(max(1, g.cfg.Persons/1500)))
}

// family writes parents, their school-age children and the relations.
func (g *gen) family() error {
	fam := surnames.pick(g.r)
	noPatronymic := g.r.IntN(100) < 1
	if invariable(fam) && !strings.HasSuffix(fam, "о") && g.r.IntN(2) == 0 {
		noPatronymic = true // Korean and similar families often have none
	}
	// Children: born so that they are at school (7 to 17 on Today).
	oldest, youngest := g.yearsAgo(18).Time(time.UTC).AddDate(0, 0, 1), g.yearsAgo(7).Time(time.UTC)
	nKids := 1
	switch x := g.r.IntN(100); {
	case x >= 87:
		nKids = 3
	case x >= 50:
		nKids = 2
	}
	first := g.dateIn(store.DateOf(oldest), store.DateOf(youngest))
	motherAge := 20 + g.r.IntN(19)
	father := g.adultBorn(true, fam, store.DateOf(first.Time(time.UTC).AddDate(-(motherAge+g.r.IntN(7)), 0, -g.r.IntN(300))))
	motherLast := feminine(fam)
	switch x := g.r.IntN(1000); {
	case x < 5: // double surname, married women mostly
		motherLast = feminine(fam) + "-" + feminine(surnames.pick(g.r))
	case x < 150: // kept her own surname
		motherLast = feminine(surnames.pick(g.r))
	}
	mother := g.adultBorn(false, motherLast, store.DateOf(first.Time(time.UTC).AddDate(-motherAge, 0, -g.r.IntN(300))))
	if noPatronymic {
		father.middle, mother.middle = "", ""
	}
	born := first
	var kids []*human
	for i := 0; i < nKids; i++ {
		if i > 0 {
			next := born.Time(time.UTC).AddDate(1+g.r.IntN(5), g.r.IntN(12), g.r.IntN(28))
			if next.After(youngest) {
				break
			}
			born = store.DateOf(next)
		}
		male := g.r.IntN(2) == 0
		last, names := fam, boyNames
		if !male {
			last, names = feminine(fam), girlNames
		}
		k := g.person(male, last, names, born)
		if !noPatronymic {
			k.middle = patronymic(father.first, male)
		}
		k.cert = g.birthCert(k)
		k.school = g.school()
		grade := g.cfg.Today.Year - born.Year - 7
		if born.Month >= 9 {
			grade--
		}
		k.class = fmt.Sprintf("%d%c", max(1, min(11, grade+1)), []rune("АБВГ")[g.r.IntN(4)])
		kids = append(kids, k)
	}
	father.kids, mother.kids = kids, kids
	var parents []*human
	kinds := map[*human]string{}
	switch x := g.r.IntN(100); {
	case x < 60:
		parents = []*human{mother, father}
	case x < 90:
		parents = []*human{mother}
	case x < 98:
		parents = []*human{father}
	default: // a grandmother as guardian
		gm := g.adult(false, "", 55, 75)
		gm.kids = kids
		parents = []*human{gm}
		kinds[gm] = "guardian"
	}
	kinds[mother], kinds[father] = "mother", "father"
	mother.multi = g.r.IntN(100) < 3 // a mother who teaches
	for _, p := range parents {
		p.phone = fmt.Sprintf("+79%09d", g.r.IntN(1e9))
		if g.r.IntN(2) == 0 {
			p.email = fmt.Sprintf("parent%d@mail.example.ru", p.idx)
		}
		if err := g.write(p, store.RoleParent); err != nil {
			return err
		}
		if p == mother && mother.multi {
			p.school = g.school()
			if err := g.write(p, store.RoleTeacher); err != nil {
				return err
			}
		}
	}
	for _, k := range kids {
		if err := g.write(k, store.RoleStudent); err != nil {
			return err
		}
	}
	for _, p := range parents {
		for _, k := range kids {
			if len(p.records) == 0 || len(k.records) == 0 {
				continue
			}
			if err := g.writeRow(linking.RosterRow{Type: "relation", Parent: p.records[0].id, Student: k.records[0].id, Kind: kinds[p]}); err != nil {
				return err
			}
			g.sum.Relations++
		}
	}
	for _, p := range parents {
		if err := g.finish(p); err != nil {
			return err
		}
	}
	for _, k := range kids {
		if err := g.finish(k); err != nil {
			return err
		}
	}
	return nil
}

// birthCert makes a Russian birth certificate that no other child has: the
// k-th child gets series k mod len(certSeries) and a number that is a
// bijection of k/len(certSeries).
func (g *gen) birthCert(k *human) *store.BirthCert {
	n := g.students
	g.students++
	series := certSeries[n%len(certSeries)]
	number := 100000 + (n/len(certSeries)*7919)%900000
	issue := store.DateOf(k.birth.Time(time.UTC).AddDate(0, 0, 3+g.r.IntN(28)))
	act := fmt.Sprintf("%d", 100+g.r.IntN(9900))
	if issue.Year >= 2018 {
		act = fmt.Sprintf("1%010d%010d", g.r.Int64N(1e10), g.r.Int64N(1e10))
	}
	return &store.BirthCert{Type: string(linking.BirthCertRF), Series: series, Number: fmt.Sprintf("%06d", number), IssueDate: issue, ActNo: act}
}

// idPrefix starts the external ids of each role (w for staff: workers).
var idPrefix = map[store.Role]string{store.RoleStudent: "s", store.RoleParent: "p", store.RoleTeacher: "t", store.RoleStaff: "w"}

func (g *gen) nextID(role store.Role) string {
	g.counters[role]++
	return fmt.Sprintf("%s-%07d", idPrefix[role], g.counters[role])
}

// write writes a roster record of h in role, with h's error when it has
// one. Once the roster has Persons rows nothing more is written.
func (g *gen) write(h *human, role store.Role) error {
	if g.sum.Persons >= g.cfg.Persons {
		return nil
	}
	rec := record{id: g.nextID(role), role: role}
	h.records = append(h.records, rec)
	if len(h.records) == 1 {
		h.sampled = g.r.Float64() < g.sampleP
		if !h.multi && g.cfg.ErrorShare > 0 && g.r.Float64() < g.cfg.ErrorShare {
			h.err = g.dealError(h)
		}
	}
	row := g.row(h, rec)
	if err := g.writeRow(row); err != nil {
		return err
	}
	g.sum.Persons++
	g.sum.ByRole[role]++
	if h.err == ErrDuplicateRecord && g.sum.Persons < g.cfg.Persons {
		dup := record{id: g.nextID(role), role: role}
		row.ExternalID = dup.id
		if err := g.writeRow(row); err != nil {
			return err
		}
		h.records = append(h.records, dup)
		g.sum.Persons++
		g.sum.ByRole[role]++
	}
	return nil
}

// dealError picks the next error class that applies to h.
func (g *gen) dealError(h *human) ErrorClass {
	for i := 0; i < len(g.cfg.Errors); i++ {
		c := g.cfg.Errors[(g.errTurn+i)%len(g.cfg.Errors)]
		if g.applies(h, c) {
			g.errTurn += i + 1
			g.sum.Errors[c]++
			return c
		}
	}
	return ""
}

func (g *gen) applies(h *human, c ErrorClass) bool {
	switch c {
	case ErrYo:
		return strings.ContainsAny(h.last+h.first+h.middle, "ёЁ")
	case ErrDayMonthSwap:
		return h.birth.Day <= 12 && h.birth.Day != int(h.birth.Month)
	case ErrMissingPatronymic:
		return h.middle != ""
	case ErrLookalike:
		return lookalike(h.last, g.r) != h.last
	case ErrDuplicateRecord:
		return g.sum.Persons+1 < g.cfg.Persons
	}
	return true
}

// row is the roster row of one record of h, with h's error applied.
func (g *gen) row(h *human, rec record) linking.RosterRow {
	row := linking.RosterRow{Type: "person", ExternalID: rec.id, Role: string(rec.role),
		LastName: h.last, FirstName: h.first, MiddleName: h.middle, BirthDate: h.birth.String(),
		SNILS: formatSNILS(h.snils, g.r), School: h.school}
	if rec.role == store.RoleStudent {
		row.Class = h.class
	}
	if c := h.cert; c != nil {
		row.BirthCert = &linking.RowBirthCert{Type: c.Type, Series: c.Series, Number: c.Number, IssueDate: c.IssueDate.String(), ActNo: c.ActNo}
	}
	if h.phone != "" {
		row.Contacts = append(row.Contacts, store.Contact{Type: "phone", Value: h.phone})
	}
	if h.email != "" {
		row.Contacts = append(row.Contacts, store.Contact{Type: "email", Value: h.email})
	}
	switch h.err {
	case ErrSNILSTypo:
		row.SNILS = snilsTypo(h.snils, g.r)
	case ErrSNILSTransposition:
		s, ok := snilsTransposition(h.snils, g.r)
		if !ok {
			s = snilsTypo(h.snils, g.r)
			g.sum.Errors[ErrSNILSTransposition]--
			g.sum.Errors[ErrSNILSTypo]++
			h.err = ErrSNILSTypo
		}
		row.SNILS = s
	case ErrYo:
		switch {
		case strings.ContainsAny(h.last, "ёЁ"):
			row.LastName = deYo(h.last)
		case strings.ContainsAny(h.first, "ёЁ"):
			row.FirstName = deYo(h.first)
		default:
			row.MiddleName = deYo(h.middle)
		}
	case ErrLookalike:
		row.LastName = lookalike(h.last, g.r)
	case ErrDayMonthSwap:
		row.BirthDate = store.Date{Year: h.birth.Year, Month: timeMonth(h.birth.Day), Day: int(h.birth.Month)}.String()
	case ErrMissingPatronymic:
		row.MiddleName = ""
	case ErrMissingSNILS:
		row.SNILS = ""
	}
	return row
}

func deYo(s string) string { return strings.NewReplacer("ё", "е", "Ё", "Е").Replace(s) }

// lookalike replaces one Cyrillic letter that has a Latin twin.
func lookalike(s string, r *rand.Rand) string {
	rs := []rune(s)
	var at []int
	for i, c := range rs {
		if _, ok := latinLookalike[c]; ok {
			at = append(at, i)
		}
	}
	if len(at) == 0 {
		return s
	}
	i := at[r.IntN(len(at))]
	rs[i] = latinLookalike[rs[i]]
	return string(rs)
}

func (g *gen) writeRow(row linking.RosterRow) error {
	b, err := json.Marshal(row)
	if err != nil {
		return fmt.Errorf("rostergen: %w", err)
	}
	g.roster.Write(b)
	if err := g.roster.WriteByte('\n'); err != nil {
		return fmt.Errorf("rostergen: roster: %w", err)
	}
	return nil
}

// finish writes h's manifest entry and ESIA person when h has either.
func (g *gen) finish(h *human) error {
	if h.err == "" && !h.sampled {
		return nil
	}
	if len(h.records) == 0 && h.err != "" {
		return nil // the roster was full before h got a record
	}
	e := g.expect(h)
	if h.sampled {
		e.OID = fmt.Sprintf("%d", 1_100_000_000+len(g.esia))
		g.esia = append(g.esia, g.esiaPerson(h, e))
		if len(h.records) == 0 {
			g.sum.Strangers++
		}
	}
	g.sum.Manifest++
	if err := g.manifest.Encode(e); err != nil {
		return fmt.Errorf("rostergen: manifest: %w", err)
	}
	return nil
}

// expect is the ladder's answer for h (DESIGN.md §5), from the rungs:
// SNILS and birth date; certificate and birth date; ФИО and birth date when
// the tenant allows it. SNILS, certificates and ФИО+birth date are unique
// in the generated world, so no outcome depends on chance.
func (g *gen) expect(h *human) Entry {
	e := Entry{Error: h.err}
	if len(h.records) == 0 {
		e.Outcome = linking.OutcomeNotFound
		return e
	}
	e.ExternalID, e.Role = h.records[0].id, h.records[0].role
	for _, r := range h.records {
		e.Records = append(e.Records, r.id)
	}
	sort.Strings(e.Records)
	linked := func(rung string) {
		e.Outcome, e.Rung = linking.OutcomeLinked, rung
	}
	notFound := func() {
		// The birth-date probe of the explanation finds the record.
		e.Outcome, e.Reason, e.Records = linking.OutcomeNotFound, linking.ReasonNoRule, nil
	}
	field := func(f string, res linking.FieldResult, d linking.Difference) {
		e.Field, e.FieldResult, e.Difference = f, res, d
	}
	student := h.cert != nil
	switch h.err {
	case "":
		linked(linking.RungSNILS)
	case ErrYo, ErrLookalike, ErrMissingPatronymic:
		linked(linking.RungSNILS)
		switch h.err {
		case ErrYo:
			f := linking.FieldPatronymic
			if strings.ContainsAny(h.last, "ёЁ") {
				f = linking.FieldLastName
			} else if strings.ContainsAny(h.first, "ёЁ") {
				f = linking.FieldFirstName
			}
			field(f, linking.ResultEqualNormalised, linking.DiffYo)
		case ErrLookalike:
			field(linking.FieldLastName, linking.ResultEqualNormalised, linking.DiffLookalike)
		default:
			field(linking.FieldPatronymic, linking.ResultMissingRoster, "")
		}
	case ErrSNILSTypo, ErrSNILSTransposition:
		// The record is found by certificate or name, and its SNILS
		// contradicts ESIA's.
		switch {
		case student:
			e.Outcome, e.Rung, e.Reason, e.Records = linking.OutcomeConflict, linking.RungBirthCert, linking.ReasonSNILSDiffers, nil
		case g.cfg.AllowNameMatch:
			e.Outcome, e.Rung, e.Reason, e.Records = linking.OutcomeConflict, linking.RungName, linking.ReasonSNILSDiffers, nil
		default:
			notFound()
		}
		d := linking.DiffOneDigit
		if h.err == ErrSNILSTransposition {
			d = linking.DiffTransposition
		}
		field(linking.FieldSNILS, linking.ResultDifferent, d)
	case ErrDayMonthSwap:
		e.Outcome, e.Rung, e.Reason, e.Records = linking.OutcomeConflict, linking.RungSNILS, linking.ReasonBirthDateDiffer, nil
		field(linking.FieldBirthDate, linking.ResultDifferent, linking.DiffDayMonthSwap)
	case ErrDuplicateRecord:
		e.Outcome, e.Rung, e.Reason = linking.OutcomeAmbiguous, linking.RungSNILS, linking.ReasonDuplicate
	case ErrMissingSNILS:
		switch {
		case student:
			linked(linking.RungBirthCert)
		case g.cfg.AllowNameMatch:
			linked(linking.RungName)
		default:
			notFound()
		}
		field(linking.FieldSNILS, linking.ResultMissingRoster, "")
	}
	return e
}

// esiaPerson is what ESIA knows of h: the truth the roster row was typed from.
func (g *gen) esiaPerson(h *human, e Entry) esiasim.Person {
	age := h.birth.AgeOn(g.cfg.Today)
	lvl := "PR"
	switch {
	case age < 14:
		lvl = "KD"
	case g.r.IntN(10) == 0:
		lvl = "P"
	}
	role := map[store.Role]string{store.RoleStudent: "ученик", store.RoleParent: "родитель", store.RoleTeacher: "учитель", store.RoleStaff: "сотрудник"}[e.Role]
	desc := "rostergen: " + string(e.Outcome)
	if h.err != "" {
		desc += " (" + string(h.err) + ")"
	}
	if len(h.records) == 0 {
		desc = "rostergen: in no roster"
	}
	p := esiasim.Person{
		OID: e.OID, Level: lvl, Sim: esiasim.SimInfo{Description: desc, Role: role},
		StateFacts: []string{"EntityRoot"}, FirstName: h.first, LastName: h.last, MiddleName: h.middle,
		BirthDate: esiaDate(h.birth), Gender: gender(h.male), SNILS: esiaSNILS(h.snils), Citizenship: "RUS",
		Trusted: lvl == "PR", Status: "REGISTERED", UpdatedOn: 1_760_000_000 + int64(h.idx), ETag: etag(h.idx),
	}
	docs := &esiasim.Collection[esiasim.Document]{StateFacts: []string{"hasSize"}}
	if h.cert != nil {
		docs.Elements = append(docs.Elements, g.certDoc(h.cert))
	} else {
		g.docID++
		docs.Elements = append(docs.Elements, esiasim.Document{ID: json.Number(fmt.Sprint(3_000_000_000 + g.docID)), Type: "RF_PASSPORT",
			VrfStu: "VERIFIED", Series: fmt.Sprintf("%04d", 4500+g.r.IntN(100)), Number: fmt.Sprintf("%06d", g.r.IntN(1e6)),
			IssueDate: esiaDate(store.DateOf(h.birth.Time(time.UTC).AddDate(20, 0, 10))), IssueID: "770-021", IssuedBy: "ГУ МВД России по г. Москве"})
	}
	docs.Size = len(docs.Elements)
	p.Documents = docs
	var contacts []esiasim.Contact
	if h.phone != "" {
		contacts = append(contacts, esiasim.Contact{ID: json.Number(fmt.Sprint(4_000_000_000 + 2*h.idx)), Type: "MBT", VrfStu: "VERIFIED", Value: h.phone})
	}
	if h.email != "" {
		contacts = append(contacts, esiasim.Contact{ID: json.Number(fmt.Sprint(4_000_000_001 + 2*h.idx)), Type: "EML", VrfStu: "VERIFIED", Value: h.email})
	}
	p.Contacts = &esiasim.Collection[esiasim.Contact]{StateFacts: []string{"hasSize"}, Size: len(contacts), Elements: contacts}
	if contacts == nil {
		p.Contacts.Elements = []esiasim.Contact{}
	}
	p.Addresses = &esiasim.Collection[esiasim.Address]{StateFacts: []string{"hasSize"}, Elements: []esiasim.Address{}}
	if len(h.kids) > 0 {
		kids := &esiasim.Collection[esiasim.Kid]{StateFacts: []string{"hasSize"}, Size: len(h.kids)}
		for i, k := range h.kids {
			kd := esiasim.Kid{ID: json.Number(fmt.Sprint(2_000_000_000 + 4*h.idx + i)), FirstName: k.first, LastName: k.last,
				MiddleName: k.middle, BirthDate: esiaDate(k.birth), Gender: gender(k.male), SNILS: esiaSNILS(k.snils), ETag: etag(k.idx)}
			if k.cert != nil {
				kd.Documents = &esiasim.Collection[esiasim.Document]{StateFacts: []string{"hasSize"}, Size: 1,
					Elements: []esiasim.Document{g.certDoc(k.cert)}}
			}
			kids.Elements = append(kids.Elements, kd)
		}
		p.Kids = kids
	}
	return p
}

func (g *gen) certDoc(c *store.BirthCert) esiasim.Document {
	g.docID++
	return esiasim.Document{ID: json.Number(fmt.Sprint(3_000_000_000 + g.docID)), Type: c.Type, VrfStu: "VERIFIED",
		Series: c.Series, Number: c.Number, IssueDate: esiaDate(c.IssueDate), ActNo: c.ActNo, ActDate: esiaDate(c.IssueDate),
		IssuedBy: "Отдел ЗАГС"}
}

func gender(male bool) string {
	if male {
		return "M"
	}
	return "F"
}

func esiaDate(d store.Date) string { return fmt.Sprintf("%02d.%02d.%04d", d.Day, int(d.Month), d.Year) }

func etag(i int) string {
	f := fnv.New64a()
	fmt.Fprint(f, i)
	return fmt.Sprintf("%016x%016x%08x", f.Sum64(), f.Sum64()^0x5bd1e995, uint32(i))
}

func timeMonth(m int) time.Month { return time.Month(m) }

// LinkingPerson is a fixture person as the ladder sees them after a login
// (what pkg/login builds from ESIA's answer): ФИО, birth date, SNILS and
// the birth certificates among the documents.
func LinkingPerson(p esiasim.Person) (linking.Person, error) {
	lp := linking.Person{OID: p.OID, ETag: p.ETag, Identity: linking.Identity{
		Name:  linking.FullName{Last: p.LastName, First: p.FirstName, Patronymic: p.MiddleName},
		SNILS: p.SNILS,
	}}
	if p.BirthDate != "" {
		d, err := store.ParseDate(p.BirthDate)
		if err != nil {
			return linking.Person{}, fmt.Errorf("rostergen: person %s: birth date: %w", p.OID, err)
		}
		lp.Identity.BirthDate = d
	}
	if p.Documents != nil {
		for _, d := range p.Documents.Elements {
			switch t := linking.BirthCertType(d.Type); t {
			case linking.BirthCertRF, linking.BirthCertForeign, linking.BirthCertOld:
				lp.BirthCerts = append(lp.BirthCerts, linking.BirthCert{Type: t, Series: d.Series, Number: d.Number})
			}
		}
	}
	return lp, nil
}

// ReadManifest reads a manifest written by Generate.
func ReadManifest(r io.Reader) ([]Entry, error) {
	var out []Entry
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	for {
		var e Entry
		err := dec.Decode(&e)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("rostergen: manifest entry %d: %w", len(out)+1, err)
		}
		out = append(out, e)
	}
}
