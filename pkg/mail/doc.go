// Package mail sends the broker's few e-mails (to parents about consent
// requests) over SMTP: one plain-text message in UTF-8 per call, with
// STARTTLS, implicit TLS or — for a relay on the same host — none.
package mail
