package apiclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/fleetwire/fleetwire/cloud/api"
)

// FeedQuery selects a page of the pull feed (zero fields omitted).
type FeedQuery struct {
	// Account is for operator tokens.
	Account string
	// Cursor is a previous page's Next (or an item's Cursor); empty with
	// Since zero: from the oldest stored event.
	Cursor string
	Since  time.Time
	Limit  int
	// Wait long-polls up to this long (at most 30s) for a first event.
	Wait time.Duration
	// The filter, as a subscription's.
	Events, Vehicles, VehicleGroups, GeofenceTags []string
}

func (q FeedQuery) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("account", q.Account)
	set("cursor", q.Cursor)
	if !q.Since.IsZero() {
		set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		set("limit", strconv.Itoa(q.Limit))
	}
	if q.Wait > 0 {
		set("wait", strconv.FormatFloat(q.Wait.Seconds(), 'f', -1, 64))
	}
	set("events", strings.Join(q.Events, ","))
	set("vehicles", strings.Join(q.Vehicles, ","))
	set("vehicle_groups", strings.Join(q.VehicleGroups, ","))
	set("geofence_tags", strings.Join(q.GeofenceTags, ","))
	return v
}

// maxRateWaits is how many 429 answers a call waits out before failing.
const maxRateWaits = 5

// Feed reads one page of the pull feed. A 429 (the token's feed rate) is
// waited out as its Retry-After says and the request sent again, up to
// five times, within ctx.
func (c *Client) Feed(ctx context.Context, q FeedQuery) (api.FeedPage, error) {
	var out api.FeedPage
	return out, c.getWaiting(ctx, "/v1/feed?"+q.values().Encode(), q.Wait, &out)
}

// VehicleEventsQuery selects a page of one vehicle's events.
type VehicleEventsQuery struct {
	Account string
	FromSeq uint64
	Limit   int
	// Subscription applies its filter: what it skips is listed apart.
	Subscription string
}

// VehicleEvents reads one vehicle's events from q.FromSeq (gap fetch).
func (c *Client) VehicleEvents(ctx context.Context, vehicle string, q VehicleEventsQuery) (api.VehicleEvents, error) {
	v := url.Values{}
	if q.Account != "" {
		v.Set("account", q.Account)
	}
	if q.FromSeq > 0 {
		v.Set("fromSeq", strconv.FormatUint(q.FromSeq, 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Subscription != "" {
		v.Set("subscription", q.Subscription)
	}
	var out api.VehicleEvents
	return out, c.getWaiting(ctx, "/v1/vehicles/"+esc(vehicle)+"/events?"+v.Encode(), 0, &out)
}

// getWaiting GETs path into out, allowing wait more than the client's
// timeout, and waits out 429 answers.
func (c *Client) getWaiting(ctx context.Context, path string, wait time.Duration, out any) error {
	hc := http.Client{Timeout: 30 * time.Second}
	if c.HTTP != nil {
		hc = *c.HTTP
	}
	if wait > 0 && hc.Timeout > 0 {
		hc.Timeout += wait
	}
	for attempt := 0; ; attempt++ {
		retryAfter, err := c.get(ctx, &hc, path, out)
		if err == nil || retryAfter == 0 || attempt == maxRateWaits {
			return err
		}
		t := time.NewTimer(retryAfter)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("apiclient: GET %s: %w", path, ctx.Err())
		case <-t.C:
		}
	}
}

// get sends one GET; on a 429 it returns the wait the server asked for.
func (c *Client) get(ctx context.Context, hc *http.Client, path string, out any) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.Base+path, nil)
	if err != nil {
		return 0, fmt.Errorf("apiclient: %w", err)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	res, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("apiclient: GET %s: %w", path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return 0, fmt.Errorf("apiclient: GET %s: %w", path, err)
	}
	if res.StatusCode/100 != 2 {
		e := &Error{Status: res.StatusCode}
		if json.Unmarshal(raw, &e.Problem) != nil {
			e.Problem.Detail = strings.TrimSpace(string(raw))
		}
		var wait time.Duration
		if res.StatusCode == http.StatusTooManyRequests {
			secs, _ := strconv.Atoi(res.Header.Get("Retry-After"))
			wait = time.Duration(max(secs, 1)) * time.Second
		}
		return wait, e
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return 0, fmt.Errorf("apiclient: GET %s: answer: %w", path, err)
	}
	return 0, nil
}
