package consent

import (
	"context"
	"errors"
	"strings"

	"github.com/diarybroker/broker/pkg/store"
)

// deliverTicket sends a resolved ticket's resolution to the address its
// reporter left (the ticket's contact, read now: a ticket destroyed
// meanwhile sends nothing), within the same per-address limit as the
// e-mails to parents.
func (n *Notifier) deliverTicket(ctx context.Context, j store.MailJob) (outcome, reason string) {
	t, err := n.Store.TicketInScope(ctx, store.Scope{Role: store.StaffOperator}, j.RequestID)
	if errors.Is(err, store.ErrNotFound) {
		return "closed", ""
	}
	if err != nil {
		return "failed", "ticket unavailable"
	}
	if t.State != store.TicketResolved {
		return "closed", ""
	}
	to := strings.TrimSpace(t.Contact)
	if !strings.Contains(to, "@") {
		return "no_address", ""
	}
	if outcome, reason := n.allow(ctx, to); outcome != "" {
		return outcome, reason
	}
	tn, err := n.Store.GetTenant(ctx, t.TenantID)
	if err != nil {
		return "failed", "tenant unavailable"
	}
	subject, body := ticketMailText(tn, formatRef(j.AttemptRef), t.Resolution)
	if err := n.Mailer.Send(ctx, to, subject, body); err != nil {
		return "failed", mailError(err, to)
	}
	return "sent", ""
}

// ticketMailText is the e-mail of a resolved ticket: its reference code,
// the diary, and what support wrote as the resolution (the console's form
// says it is sent).
func ticketMailText(t store.Tenant, ref, resolution string) (subject, body string) {
	subject = "Ваше обращение " + ref + " решено"
	body = strings.Join([]string{
		"Здравствуйте!",
		"",
		"Вы сообщили о проблеме со входом в электронный дневник «" + t.DisplayName + "» (код обращения " + ref + "). Обращение решено.",
		"",
		"Что сделано:",
		strings.ReplaceAll(resolution, "\n", "\r\n"),
		"",
		"Попробуйте войти в электронный дневник ещё раз. Если вход снова не получится, сообщите новый код обращения со страницы ошибки.",
		"",
		"Это письмо отправлено автоматически, отвечать на него не нужно. Адрес вы указали сами, сообщая о проблеме.",
	}, "\r\n")
	return subject, body
}

// formatRef writes a reference code as people read it, "NDPEB-RF2J6"
// (login.FormatRef; consent does not import the login package).
func formatRef(ref string) string {
	if len(ref) != 10 {
		return ref
	}
	return ref[:5] + "-" + ref[5:]
}
