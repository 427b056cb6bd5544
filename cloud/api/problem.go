package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// Problem is an RFC 9457 problem detail, and an error handlers return.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Instance is the request path.
	Instance string `json:"instance,omitempty"`
	// Errors names each field at fault.
	Errors []FieldError `json:"errors,omitempty"`
	// Oldest is the oldest time a replay may start from (replay problems).
	Oldest string `json:"oldest,omitempty"`
	// OldestCursor reads the pull feed from the oldest stored event, and
	// OldestSeq is a vehicle's oldest stored seq (410 problems of the feed
	// and of a vehicle's events).
	OldestCursor string `json:"oldestCursor,omitempty"`
	OldestSeq    uint64 `json:"oldestSeq,omitempty"`
}

// FieldError is one field at fault: its JSON name (or query parameter)
// and what is wrong with it.
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

func (p *Problem) Error() string {
	if p.Detail != "" {
		return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail)
	}
	return fmt.Sprintf("%d %s", p.Status, p.Title)
}

// problemType is the type URI of a problem kind.
func problemType(slug string) string { return "urn:fleetwire:problem:" + slug }

func problem(status int, slug, title, detail string, fields ...FieldError) *Problem {
	return &Problem{Type: problemType(slug), Title: title, Status: status, Detail: detail, Errors: fields}
}

func notFound(what string) *Problem {
	return problem(http.StatusNotFound, "not-found", "Not found", what+" not found")
}

func invalid(detail string, fields ...FieldError) *Problem {
	return problem(http.StatusUnprocessableEntity, "invalid", "Invalid request", detail, fields...)
}

func invalidField(field, detail string) *Problem {
	return invalid(field+": "+detail, FieldError{Field: field, Detail: detail})
}

func badRequest(detail string, fields ...FieldError) *Problem {
	return problem(http.StatusBadRequest, "bad-request", "Bad request", detail, fields...)
}

// writeProblem answers with p, or a 500 problem for any other error (whose
// text is logged, not shown).
func (a *API) writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	var p *Problem
	if !errors.As(err, &p) {
		if r.Context().Err() != nil {
			return // the client left
		}
		a.log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		p = problem(http.StatusInternalServerError, "internal", "Internal error", "the server could not complete the request; see its log")
	}
	q := *p
	q.Instance = r.URL.Path
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(q.Status)
	_ = json.NewEncoder(w).Encode(q)
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// decode reads one JSON value of at most limit bytes into dst, refusing
// unknown fields and trailing data. An empty body leaves dst as is when
// optional, and is a problem otherwise.
func decode(w http.ResponseWriter, r *http.Request, limit int64, dst any, optional bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return problem(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type", "send application/json, not "+ct)
		}
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if errors.Is(err, io.EOF) {
			if optional {
				return nil
			}
			return badRequest("the request needs a JSON body")
		}
		return jsonProblem(err, limit)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(limit)
		}
		return badRequest("the body must hold exactly one JSON value")
	}
	return nil
}

func tooLarge(limit int64) *Problem {
	return problem(http.StatusRequestEntityTooLarge, "too-large", "Request body too large", fmt.Sprintf("the body may hold at most %d bytes", limit))
}

// jsonProblem explains a decoding error, naming the field when it can.
func jsonProblem(err error, limit int64) *Problem {
	var mbe *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	var synErr *json.SyntaxError
	switch {
	case errors.As(err, &mbe):
		return tooLarge(limit)
	case errors.As(err, &typeErr):
		field := strings.TrimPrefix(typeErr.Field, "subscriptionFields.") // embedded in createIn
		if field == "" {
			return badRequest(fmt.Sprintf("the body must be a JSON object, not %s", typeErr.Value))
		}
		return badRequest(fmt.Sprintf("%s: must be %s, not %s", field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value),
			FieldError{Field: field, Detail: "must be " + jsonKind(typeErr.Type.Kind().String())})
	case errors.As(err, &synErr):
		return badRequest(fmt.Sprintf("malformed JSON at byte %d: %v", synErr.Offset, err))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequest(fmt.Sprintf("unknown field %q", field), FieldError{Field: field, Detail: "unknown field"})
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed JSON: the body ends too early")
	}
	return badRequest("malformed JSON: " + err.Error())
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	case "bool":
		return "a boolean"
	}
	return "a number"
}
