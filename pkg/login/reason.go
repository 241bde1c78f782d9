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
	// ReasonAccountNotConfirmed: ESIA refused a simplified or standard
	// account (ESIA-007055); the server's consent step sends the same reason
	// for a 14–17-year-old whose account is not confirmed.
	ReasonAccountNotConfirmed = "account_not_confirmed"
	// ReasonESIAMisconfigured: ESIA refused the broker's own request — its
	// certificate, client_secret, redirect URI, scopes or clock (ESIA-007002,
	// 007053, 007023, …). Nothing the person can fix; support reads the code
	// in the attempt.
	ReasonESIAMisconfigured = "esia_misconfigured"
	// ReasonESIATokenInvalid: ESIA's tokens failed verification (unknown
	// signing key, tampered, expired, wrong issuer or audience) or its
	// answer did not echo the state: a security failure, the login stops.
	ReasonESIATokenInvalid = "esia_token_invalid"
	// ReasonESIAInvalidAnswer: ESIA answered with a success status but not
	// with what the protocol says (esia.ErrInvalidAnswer): a gateway's
	// maintenance page, a truncated document.
	ReasonESIAInvalidAnswer = "esia_invalid_answer"
	// ReasonSessionStoreUnavailable: the store of pending logins (Redis)
	// could not be used. Not ESIA's fault, nor the person's.
	ReasonSessionStoreUnavailable = "session_store_unavailable"
	// ReasonDatabaseUnavailable: the broker's database could not be used.
	ReasonDatabaseUnavailable = "database_unavailable"
	// ReasonCodeRefused: the code was issued, but its exchange was refused
	// because the consent or the link the login rested on ended in
	// between (withdrawn, suspended, removed). Not sent to the diary — its
	// token request gets invalid_grant — but the attempt's outcome, for
	// support.
	ReasonCodeRefused = "consent_or_link_ended"
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
		Title: "Госуслуги недоступны",
		Text:  "Госуслуги сейчас не отвечают, поэтому войти не получилось. Попробуйте войти через несколько минут.",
	},
	ReasonAccountNotConfirmed: {
		Title: "Нужна подтверждённая учётная запись",
		Text: "Госуслуги пускают в электронный дневник только с подтверждённой учётной записью, а ваша ещё не подтверждена. " +
			"Подтвердите личность (в центре обслуживания, через онлайн-банк или электронной подписью) и войдите снова.",
	},
	ReasonESIAMisconfigured: {
		Title: "Вход через Госуслуги настроен с ошибкой",
		Text: "Подключение электронного дневника к Госуслугам сейчас настроено неправильно, поэтому войти не получилось. " +
			"Вы здесь ничего не сделали не так. Попробуйте войти позже; если ошибка повторится, сообщите код обращения в школу или в службу поддержки дневника.",
	},
	ReasonESIAInvalidAnswer: {
		Title: "Госуслуги прислали непонятный ответ",
		Text: "Госуслуги ответили, но не так, как должны: обычно это временный сбой или технические работы на их стороне. " +
			"Попробуйте войти через несколько минут; если ошибка повторится, сообщите код обращения в службу поддержки дневника.",
	},
	ReasonSessionStoreUnavailable: {
		Title: "Сервис временно недоступен",
		Text: "Сервис входа в электронный дневник временно не работает из-за технического сбоя на нашей стороне — Госуслуги и ваш дневник тут ни при чём. " +
			"Попробуйте войти через несколько минут; если ошибка повторится, сообщите код обращения в службу поддержки дневника.",
	},
	ReasonCodeRefused: {
		Title: "Согласие или привязка прекращены",
		Text: "Пока вы входили, согласие на обработку данных было отозвано или привязка к вашей записи в дневнике приостановлена. " +
			"Дневник не получил вход. Если согласие дано снова или привязка восстановлена, войдите ещё раз.",
	},
	ReasonDatabaseUnavailable: {
		Title: "Сервис временно недоступен",
		Text: "Сервис входа в электронный дневник временно не может прочитать или сохранить данные из-за технического сбоя на нашей стороне — Госуслуги и ваш дневник тут ни при чём. " +
			"Попробуйте войти через несколько минут; если ошибка повторится, сообщите код обращения в службу поддержки дневника.",
	},
	ReasonESIATokenInvalid: {
		Title: "Ответ Госуслуг не прошёл проверку",
		Text: "Мы не смогли убедиться, что ответ пришёл от Госуслуг и не был изменён, поэтому ради безопасности вход остановлен. " +
			"Начните вход заново; если ошибка повторится, сообщите код обращения в службу поддержки дневника.",
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
