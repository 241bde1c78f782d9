// Package consent decides, consent-wise, whether a person may log in to a
// diary (DESIGN.md §6): adults consent once for themselves; a minor needs
// the consent of one parent whose ESIA account lists the child. It runs the
// parental consent requests, keeps append-only evidence that stands up to
// 152-ФЗ ч.4 ст.9, and writes the events the diaries receive as webhooks.
// It knows no HTTP; the server renders its decisions as pages.
package consent
