package server

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/store"
)

// apiParamMax is the longest value of a query parameter of /api/v1, by
// name; the parameters not named here are ids (store.MaxIDLength).
var apiParamMax = map[string]int{
	"last_name":   store.MaxNameLength,
	"first_name":  store.MaxNameLength,
	"middle_name": store.MaxNameLength,
	"snils":       store.MaxDocumentLength,
	"birth_date":  store.MaxDocumentLength,
	"status":      store.MaxWordLength,
	"limit":       store.MaxWordLength,
}

// checkAPIParams refuses, before any query, a request to /api/v1 whose
// path or query parameters hold what no stored entity can (NUL or other
// control characters, invalid UTF-8 such as %FF, ids over
// store.MaxIDLength): 400 problem+json naming the parameter.
func checkAPIParams(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		names, values := c.ParamNames(), c.ParamValues()
		for i, name := range names {
			if i >= len(values) {
				break
			}
			if err := store.CheckID(name, values[i]); err != nil {
				return fieldProblem(c, err)
			}
		}
		for name, vs := range c.QueryParams() {
			max, ok := apiParamMax[name]
			if !ok {
				max = store.MaxIDLength
			}
			for _, v := range vs {
				if err := store.CheckText(name, v, max); err != nil {
					return fieldProblem(c, err)
				}
			}
		}
		return next(c)
	}
}

// fieldProblem answers a *store.FieldError: 400 problem+json whose detail
// and "field" member name the field (never its value).
func fieldProblem(c echo.Context, err error) error {
	var fe *store.FieldError
	if !errors.As(err, &fe) {
		return problem(c, http.StatusBadRequest, "Bad Request", "invalid input")
	}
	return problemWith(c, http.StatusBadRequest, "Bad Request", fe.Field+": "+fe.Problem, map[string]any{"field": fe.Field})
}

// problemWith is problem with extra members.
func problemWith(c echo.Context, status int, title, detail string, extra map[string]any) error {
	body := map[string]any{"type": "about:blank", "title": title, "status": status, "detail": detail}
	for k, v := range extra {
		body[k] = v
	}
	c.Response().Header().Set("Content-Type", "application/problem+json")
	return c.JSON(status, body)
}
