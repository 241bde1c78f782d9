package esia

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// maxBody bounds what is read of any ESIA answer.
const maxBody = 1 << 20

// call is one HTTP exchange with ESIA.
type call struct {
	label string // Observe endpoint label
	retry bool   // GET: retried once on 5xx or time-out
	// timeout, when set, bounds the attempt instead of Config.Timeout.
	timeout time.Duration
	// newRequest builds the request afresh for each attempt.
	newRequest func(ctx context.Context) (*http.Request, error)
}

// do performs cl and returns the body of a 2xx answer. A non-2xx answer is
// a *Error parsed from the body; no answer in time, or none at all, is a
// *Error matching ErrUnavailable. Cancellation of ctx by the caller is
// returned as ctx.Err(), wrapped. While the circuit breaker is open, cl is
// not sent and the *Error matches ErrUnavailable and ErrCircuitOpen; a call
// and its retry are one call for the breaker.
func (c *Config) do(ctx context.Context, cl call) ([]byte, error) {
	return c.guard(cl.label, func() ([]byte, error) {
		body, err := c.attempt(ctx, cl)
		var e *Error
		if cl.retry && errors.As(err, &e) && (e.timeout || e.HTTPStatus >= 500) && ctx.Err() == nil {
			body, err = c.attempt(ctx, cl)
		}
		return body, err
	})
}

func (c *Config) attempt(ctx context.Context, cl call) (body []byte, err error) {
	limit := c.timeout()
	if cl.timeout > 0 {
		limit = cl.timeout
	}
	actx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	req, err := cl.newRequest(actx)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	outcome := "network"
	defer func() {
		if c.Observe != nil {
			c.Observe(cl.label, outcome, time.Since(start))
		}
	}()
	resp, err := c.httpClient().Do(req)
	if err == nil {
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
	}
	if err != nil {
		if ctx.Err() != nil {
			outcome = "cancelled"
			return nil, ctx.Err()
		}
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			outcome = "timeout"
			return nil, &Error{Description: "ESIA did not answer in time", Retryable: true, timeout: true, cause: err}
		}
		return nil, &Error{Description: "ESIA could not be reached", Retryable: true, cause: err}
	}
	outcome = fmt.Sprintf("%dxx", resp.StatusCode/100)
	if resp.StatusCode/100 != 2 {
		e := parseErrorBody(resp.StatusCode, body)
		if e.Code != "" {
			outcome = e.MetricCode()
		}
		return nil, e
	}
	return body, nil
}
