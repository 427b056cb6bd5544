package dispatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/fleetwire/fleetwire/shared/webhooks"
	"github.com/hashicorp/go-retryablehttp"
)

// ErrForbiddenAddress is returned when a receiver URL resolves to an address
// the dispatcher may not reach (loopback, private, link-local…).
var ErrForbiddenAddress = errors.New("dispatch: receiver address not allowed")

// ErrStatus is wrapped by the error of a non-2xx response.
var ErrStatus = errors.New("dispatch: receiver answered non-2xx")

// sender posts signed events with a few immediate retries.
type sender struct {
	client *retryablehttp.Client
	ua     string
}

func newSender(cfg Config) *sender {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivate {
		// Checked on the resolved address at connect time, so DNS tricks
		// (a public name resolving to 127.0.0.1) do not get through; see ssrf.go.
		dialer.Control = dialControl
	}
	tr := &http.Transport{
		DialContext:         dialer.DialContext,
		MaxIdleConnsPerHost: 64,
		// Bounded per host, so that one receiver with thousands of
		// subscriptions cannot take every socket.
		MaxConnsPerHost:       64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: cfg.Timeout,
		ForceAttemptHTTP2:     true,
	}
	c := retryablehttp.NewClient()
	c.HTTPClient = &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		// Redirects are not followed: a 3xx is a failed delivery.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c.RetryMax = max(cfg.ImmediateRetries, 0)
	c.RetryWaitMin = 100 * time.Millisecond
	c.RetryWaitMax = time.Second
	c.Logger = nil
	c.CheckRetry = func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if errors.Is(err, ErrForbiddenAddress) {
			return false, err
		}
		// Timeout, conflict and too-early say "try again shortly", like
		// 429 and 5xx (which the default policy already retries); other
		// 4xx wait for the schedule.
		if err == nil && resp != nil && ctx.Err() == nil {
			switch resp.StatusCode {
			case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooEarly:
				return true, nil
			}
		}
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	// Hand back the last response or error instead of a generic "giving up".
	c.ErrorHandler = retryablehttp.PassthroughErrorHandler
	return &sender{client: c, ua: cfg.UserAgent}
}

// result of one delivery.
type result struct {
	status     int
	body       []byte // first KiB of the response
	err        error
	retryAfter time.Duration // from a 429 or 503, 0 otherwise
}

func (s *sender) send(ctx context.Context, url string, signer *webhooks.Signer, id string, body []byte, contentType string, extra http.Header) result {
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return result{err: fmt.Errorf("dispatch: request: %w", err)}
	}
	for k, v := range extra {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", s.ua)
	// Signed afresh for every attempt so the timestamp stays within the
	// receiver's tolerance however long the event waited.
	signer.SetHeaders(req.Header, id, time.Now(), body)
	resp, err := s.client.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // reuse the connection
	r := result{status: resp.StatusCode, body: head}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		r.err = fmt.Errorf("%w: %s", ErrStatus, resp.Status)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		r.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return r
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or invalid.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(secs)*time.Second, 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
