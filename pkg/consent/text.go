package consent

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/diarybroker/broker/pkg/store"
)

// DataCategories are the personal data the broker processes about a
// student (the child of a parental consent, or a student of 18 and over).
var DataCategories = []string{
	"фамилия, имя, отчество",
	"дата рождения",
	"СНИЛС",
	"реквизиты свидетельства о рождении",
	"сведения об обучении (школа, класс) и о родственных связях",
	"идентификатор учётной записи на Госуслугах",
}

// parentCategories are the personal data processed about a parent: no
// birth certificate, and the children the diary relates to them.
var parentCategories = []string{
	"фамилия, имя, отчество",
	"дата рождения",
	"СНИЛС",
	"сведения о детях, закреплённых за вами в электронном дневнике",
	"адрес электронной почты из электронного дневника (для уведомлений о согласиях)",
	"идентификатор учётной записи на Госуслугах",
}

// staffCategories are the personal data processed about a teacher or a
// school employee: no birth certificate and no family data.
var staffCategories = []string{
	"фамилия, имя, отчество",
	"дата рождения",
	"СНИЛС",
	"место работы (школа)",
	"идентификатор учётной записи на Госуслугах",
}

// CategoriesFor lists the personal data processed about a person of
// roles (a person with records of several roles: all of them, once); a
// role the broker does not know, or none, counts as a student's (the most).
func CategoriesFor(roles ...store.Role) []string {
	if len(roles) == 0 {
		return DataCategories
	}
	var out []string
	seen := map[string]bool{}
	for _, role := range roles {
		list := DataCategories
		switch role {
		case store.RoleParent:
			list = parentCategories
		case store.RoleTeacher, store.RoleStaff:
			list = staffCategories
		}
		for _, c := range list {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// Text is the consent text of a tenant's current version for a kind of
// consent and a role. It holds no personal data, so that one hash
// identifies what every person of the tenant and role was shown.
type Text struct {
	Version string
	Body    string
	Hash    string // SHA-256 of Body, hex
	// Categories are the personal data the text lists (CategoriesFor).
	Categories []string
	// Purpose is the purpose of processing as it follows «в целях».
	Purpose string
}

// TextFor renders the consent text a tenant shows for kind: a parent's
// consent is about the child (a student's data); a self-consent without a
// role too. Use TextForRole for an adult's own consent.
func TextFor(t store.Tenant, kind store.ConsentKind) Text {
	return TextForRole(t, kind, store.RoleStudent)
}

// TextForRole renders the consent text of kind for a person of roles: one
// text per role, listing only what is processed about those roles (a
// parental consent is always about a student).
func TextForRole(t store.Tenant, kind store.ConsentKind, roles ...store.Role) Text {
	p := Policy(t)
	who := "моих персональных данных"
	if kind == store.ConsentParental {
		who, roles = "персональных данных моего ребёнка", []store.Role{store.RoleStudent}
	}
	categories := CategoriesFor(roles...)
	term := "до его отзыва"
	if p.TermDays > 0 {
		term = fmt.Sprintf("%d дней или до его отзыва, если он наступит раньше", p.TermDays)
	}
	operator := t.OperatorName
	if t.OperatorAddress != "" {
		operator += " (" + t.OperatorAddress + ")"
	}
	purpose := PurposeAfterAim(p.Purpose)
	body := strings.Join([]string{
		fmt.Sprintf("Я даю согласие оператору %s на обработку %s", operator, who),
		fmt.Sprintf("для сервиса «%s»", t.DisplayName),
		fmt.Sprintf("в целях %s.", purpose),
		fmt.Sprintf("Обрабатываются: %s.", strings.Join(categories, "; ")),
		"Данные получаются с моего разрешения из ЕСИА (Госуслуги) и сверяются с данными школы.",
		fmt.Sprintf("Согласие действует %s и может быть отозвано в любой момент; после отзыва вход в дневник прекращается.", term),
		"Основание: Федеральный закон от 27.07.2006 № 152-ФЗ «О персональных данных», ст. 9.",
	}, " ")
	sum := sha256.Sum256([]byte(body))
	return Text{Version: p.TextVersion, Body: body, Hash: hex.EncodeToString(sum[:]), Categories: categories, Purpose: purpose}
}

// PurposeAfterAim is a tenant's purpose of processing as it follows «в
// целях» (the genitive: «ведения электронного дневника»). Tenants created
// before the default was written so keep «ведение …» in their settings;
// its first word is put in the genitive here rather than printed as «в
// целях ведение».
func PurposeAfterAim(purpose string) string {
	purpose = strings.TrimSpace(purpose)
	for _, w := range []string{"ведение", "Ведение"} {
		if rest, ok := strings.CutPrefix(purpose, w); ok && (rest == "" || rest[0] == ' ') {
			return "ведения" + rest
		}
	}
	return purpose
}
