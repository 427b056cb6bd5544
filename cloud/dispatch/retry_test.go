package dispatch

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryDelayFollowsScheduleWithJitter(t *testing.T) {
	d := &Dispatcher{cfg: Config{}}
	d.cfg.setDefaults()
	want := []time.Duration{5 * time.Minute, 15 * time.Minute, 35 * time.Minute, time.Hour, 150 * time.Minute,
		5 * time.Hour, 630 * time.Minute, 21 * time.Hour, 48 * time.Hour, 24 * time.Hour, 24 * time.Hour, 24 * time.Hour}
	for i, base := range want {
		attempt := i + 1
		for range 50 {
			got := d.retryDelay(nil, attempt, 0)
			if got < base*9/10 || got > base*11/10 {
				t.Fatalf("attempt %d: wait %s, want %s ± 10%%", attempt, got, base)
			}
		}
	}
	if got := d.retryDelay(nil, 3, 90*time.Second); got != 90*time.Second {
		t.Fatalf("Retry-After 90s gave %s", got)
	}
	if got := d.retryDelay(nil, 3, 48*time.Hour); got != time.Hour {
		t.Fatalf("Retry-After 48h gave %s, want the 1h cap", got)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{"-5", 0},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"soon", 0},
	}
	for _, c := range cases {
		if got := parseRetryAfter(c.in, now); got != c.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}
