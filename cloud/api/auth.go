package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/fleetwire/fleetwire/cloud/tokens"
	"github.com/fleetwire/fleetwire/shared/event"
)

// authenticate reads the bearer token.
func (a *API) authenticate(r *http.Request) (tokens.Token, error) {
	h := r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return tokens.Token{}, unauthorized("send Authorization: Bearer <token> (fleetwire token create)")
	}
	tok, err := a.cfg.Tokens.Authenticate(r.Context(), strings.TrimSpace(secret))
	if errors.Is(err, tokens.ErrUnknown) {
		return tokens.Token{}, unauthorized("the token is unknown, revoked or expired")
	}
	return tok, err
}

func unauthorized(detail string) *Problem {
	return problem(http.StatusUnauthorized, "unauthorized", "Unauthorized", detail)
}

// sees reports whether tok may see objects of account.
func sees(tok tokens.Token, account string) bool {
	return tok.Role == tokens.Operator || tok.Account == account
}

// accountOf resolves the account a request acts on: the token's own, or
// for an operator the "account" query parameter (required when need is
// set). A non-operator naming another account gets 404, as for any object
// of another account. "" means all accounts (operators only).
func accountOf(r *http.Request, tok tokens.Token, need bool) (string, error) {
	q := r.URL.Query().Get("account")
	if tok.Role != tokens.Operator {
		if q != "" && q != tok.Account {
			return "", notFound("account " + q)
		}
		return tok.Account, nil
	}
	if q == "" {
		if need {
			return "", invalidField("account", "operator tokens must name the account (?account=…)")
		}
		return "", nil
	}
	if err := event.ValidToken("account", q); err != nil {
		return "", invalidField("account", err.Error())
	}
	return q, nil
}

// createToken: POST /v1/tokens. Admins create admin or viewer tokens of
// their own account; operators any.
func (a *API) createToken(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	var in struct {
		Account string      `json:"account"`
		Role    tokens.Role `json:"role"`
		Name    string      `json:"name"`
		// ExpiresIn is a duration such as 720h (empty: never).
		ExpiresIn string `json:"expiresIn"`
	}
	if err := decode(w, r, a.cfg.MaxBody, &in, false); err != nil {
		return err
	}
	if !in.Role.Valid() {
		return invalidField("role", "want operator, admin or viewer")
	}
	if tok.Role != tokens.Operator {
		if in.Account == "" {
			in.Account = tok.Account
		}
		if in.Account != tok.Account {
			return notFound("account " + in.Account)
		}
		if in.Role == tokens.Operator {
			return problem(http.StatusForbidden, "forbidden", "Forbidden", "only operators create operator tokens")
		}
	}
	if in.Role == tokens.Operator && in.Account != "" {
		return invalidField("account", "an operator token has no account (it sees every account)")
	}
	if in.Role != tokens.Operator {
		if err := event.ValidToken("account", in.Account); err != nil {
			return invalidField("account", err.Error())
		}
	}
	t := tokens.Token{Account: in.Account, Role: in.Role, Name: in.Name}
	if in.ExpiresIn != "" {
		d, err := time.ParseDuration(in.ExpiresIn)
		if err != nil || d <= 0 {
			return invalidField("expiresIn", "a positive duration such as 720h")
		}
		t.ExpiresAt = a.cfg.Now().Add(d).UTC().Truncate(time.Second)
	}
	if err := t.Validate(); err != nil {
		return invalidField("name", err.Error())
	}
	secret, t, err := a.cfg.Tokens.Create(r.Context(), t)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, CreatedToken{t, secret})
}

// CreatedToken is a new token with its value, shown once.
type CreatedToken struct {
	tokens.Token
	Value string `json:"token"`
}

// listTokens: GET /v1/tokens (never the token values).
func (a *API) listTokens(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	account, err := accountOf(r, tok, false)
	if err != nil {
		return err
	}
	if account == "" {
		account = "*"
	}
	list, err := a.cfg.Tokens.List(r.Context(), account)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(list)})
}

// deleteToken: DELETE /v1/tokens/{id} revokes a token of the account.
func (a *API) deleteToken(w http.ResponseWriter, r *http.Request, tok tokens.Token) error {
	id := r.PathValue("id")
	t, err := a.cfg.Tokens.Get(r.Context(), id)
	if errors.Is(err, tokens.ErrNotFound) || (err == nil && !seesToken(tok, t)) {
		return notFound("token " + id)
	}
	if err != nil {
		return err
	}
	if err := a.cfg.Tokens.Delete(r.Context(), id); errors.Is(err, tokens.ErrNotFound) {
		return notFound("token " + id)
	} else if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// seesToken: operator tokens (no account) are seen by operators only.
func seesToken(tok, t tokens.Token) bool {
	return tok.Role == tokens.Operator || (t.Role != tokens.Operator && t.Account == tok.Account)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
