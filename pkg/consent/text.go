package consent

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/diarybroker/broker/pkg/store"
)

// DataCategories are the personal data the broker processes for a diary.
var DataCategories = []string{
	"фамилия, имя, отчество",
	"дата рождения",
	"СНИЛС",
	"реквизиты свидетельства о рождении",
	"сведения об обучении (школа, класс) и о родственных связях",
	"идентификатор учётной записи на Госуслугах",
}

// Text is the consent text of a tenant's current version for a kind of
// consent. It holds no personal data, so that one hash identifies what
// every person of the tenant was shown.
type Text struct {
	Version string
	Body    string
	Hash    string // SHA-256 of Body, hex
}

// TextFor renders the consent text a tenant shows.
func TextFor(t store.Tenant, kind store.ConsentKind) Text {
	p := Policy(t)
	who := "моих персональных данных"
	if kind == store.ConsentParental {
		who = "персональных данных моего ребёнка"
	}
	term := "до его отзыва"
	if p.TermDays > 0 {
		term = fmt.Sprintf("%d дней или до его отзыва, если он наступит раньше", p.TermDays)
	}
	operator := t.OperatorName
	if t.OperatorAddress != "" {
		operator += " (" + t.OperatorAddress + ")"
	}
	body := strings.Join([]string{
		fmt.Sprintf("Я даю согласие оператору %s на обработку %s", operator, who),
		fmt.Sprintf("для сервиса «%s»", t.DisplayName),
		fmt.Sprintf("в целях: %s.", p.Purpose),
		fmt.Sprintf("Обрабатываются: %s.", strings.Join(DataCategories, "; ")),
		"Данные получаются с моего разрешения из ЕСИА (Госуслуги) и сверяются с данными школы.",
		fmt.Sprintf("Согласие действует %s и может быть отозвано в любой момент; после отзыва вход в дневник прекращается.", term),
		"Основание: Федеральный закон от 27.07.2006 № 152-ФЗ «О персональных данных», ст. 9.",
		"Версия текста: " + p.TextVersion + ".",
	}, " ")
	sum := sha256.Sum256([]byte(body))
	return Text{Version: p.TextVersion, Body: body, Hash: hex.EncodeToString(sum[:])}
}
