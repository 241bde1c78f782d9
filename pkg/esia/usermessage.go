package esia

import (
	"context"
	"errors"
)

// Russian messages shown to the person. They say what happened and what to
// do, never why in protocol terms; support reads Error.Code instead.
const (
	msgRefused     = "Вы не разрешили доступ к данным на Госуслугах, поэтому войти не получилось. Чтобы войти в дневник, начните вход заново и разрешите доступ."
	msgUnavailable = "Госуслуги сейчас не отвечают. Попробуйте войти через несколько минут."
	msgExpired     = "Время на вход истекло. Начните вход заново."
	msgUnconfirmed = "Для входа нужна подтверждённая учётная запись Госуслуг. Подтвердите её онлайн через банк или в центре обслуживания и попробуйте снова."
	msgConsent     = "Госуслуги не получили согласия на передачу данных. Начните вход заново и дайте согласие."
	msgTechnical   = "Не удалось войти через Госуслуги из-за технической ошибки. Попробуйте ещё раз; если ошибка повторится, сообщите в поддержку код ошибки."
	msgCancelled   = "Вход прерван. Начните вход заново."
)

// UserMessage returns a short, clear Russian message for the person for an
// error from this package: the user refused, ESIA is unavailable, the login
// took too long, the account is not confirmed, or a technical error (every
// configuration or protocol problem, which the person cannot fix).
func UserMessage(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrUserRefused):
		return msgRefused
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrInternal), errors.Is(err, context.DeadlineExceeded):
		return msgUnavailable
	case errors.Is(err, ErrCodeInvalid):
		return msgExpired
	case errors.Is(err, ErrUnconfirmedAccount):
		return msgUnconfirmed
	case errors.Is(err, ErrDigitalProfileConsent):
		return msgConsent
	case errors.Is(err, context.Canceled):
		return msgCancelled
	}
	return msgTechnical
}
