package login

// Reasons sent to the diary as error_description (DESIGN.md §3).
const (
	ReasonNotFound        = "not_found"
	ReasonAmbiguous       = "ambiguous"
	ReasonConflict        = "conflict"
	ReasonConsentRequired = "consent_required"
	ReasonConsentDenied   = "consent_denied"
	ReasonUserRefused     = "user_refused"
	ReasonESIAUnavailable = "esia_unavailable"
)

// messages are what the person reads on the error page for each reason.
var messages = map[string]Message{
	ReasonNotFound: {
		Title: "Ваш дневник не найден",
		Text: "Мы не нашли вашу запись в электронном дневнике по данным Госуслуг. " +
			"Обычно это значит, что в школе записали СНИЛС, дату рождения или ФИО не так, как на Госуслугах. " +
			"Сообщите код обращения в школу или в службу поддержки дневника — по нему видно, что именно не совпало.",
	},
	ReasonAmbiguous: {
		Title: "Найдено несколько записей",
		Text: "В дневнике есть несколько записей, подходящих под ваши данные, и мы не можем выбрать одну из них сами. " +
			"Сообщите код обращения в школу или в службу поддержки дневника.",
	},
	ReasonConflict: {
		Title: "Данные не совпадают",
		Text: "Запись в дневнике нашлась, но часть данных в ней противоречит Госуслугам (например, дата рождения). " +
			"Сообщите код обращения в школу, чтобы там исправили запись.",
	},
	ReasonConsentRequired: {
		Title: "Нужно согласие родителя",
		Text:  "Для входа в дневник нужно согласие одного из родителей. Согласия уже запрошены.",
	},
	ReasonConsentDenied: {
		Title: "Согласие не получено",
		Text:  "Без согласия на обработку персональных данных вход в дневник невозможен.",
	},
	ReasonUserRefused: {
		Title: "Вход отменён",
		Text:  "Вы отказались предоставить дневнику доступ к данным Госуслуг. Вы можете вернуться в дневник и попробовать ещё раз.",
	},
	ReasonESIAUnavailable: {
		Title: "Госуслуги не ответили",
		Text:  "Не удалось завершить вход через Госуслуги. Попробуйте ещё раз через несколько минут.",
	},
}

// Message is the Russian text of an error page.
type Message struct {
	Title string
	Text  string
}

// MessageFor returns the page text for a reason.
func MessageFor(reason string) Message {
	if m, ok := messages[reason]; ok {
		return m
	}
	return messages[ReasonESIAUnavailable]
}
