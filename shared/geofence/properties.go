package geofence

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// properties are a feature's properties, values left raw.
type properties map[string]json.RawMessage

// apply sets the fence's fields other than ID and geometry.
func (p properties) apply(f *Fence, opts *LoadOptions) error {
	var err error
	if f.Name, err = p.text("name"); err != nil {
		return err
	}
	if f.Name == "" && opts.NameProperty != "" {
		if f.Name, err = p.text(opts.NameProperty); err != nil {
			return err
		}
	}
	if f.Name == "" {
		f.Name = f.ID
	}
	if f.Account, err = p.text("account"); err != nil {
		return err
	}
	if f.Account == "" {
		f.Account = opts.Account
	}
	if f.Tags, err = p.tags(opts.Tags); err != nil {
		return err
	}
	if f.SpeedLimitKph, err = p.nonNegative("speedLimitKph", math.MaxFloat64); err != nil {
		return err
	}
	// The longest time.Duration is about 292 years.
	dwell, err := p.nonNegative("dwellSeconds", float64(math.MaxInt64/int64(time.Second)))
	if err != nil {
		return err
	}
	f.DwellAfter = time.Duration(dwell * float64(time.Second))
	return nil
}

// text returns a string or number property as text, "" when absent or null.
func (p properties) text(key string) (string, error) {
	s, err := scalarText(p[key])
	if err != nil {
		return "", fmt.Errorf("%w: %q: %w", ErrProperty, key, err)
	}
	return s, nil
}

// scalarText returns a raw JSON string or number as text, "" for null or
// nothing.
func scalarText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v), nil
	case json.Number:
		return v.String(), nil
	}
	return "", fmt.Errorf("want a string or a number, got %s", raw)
}

// number returns a number property, NaN when it is absent or null; other
// types are an error wrapping sentinel.
func (p properties) number(key string, sentinel error) (float64, error) {
	raw := bytes.TrimSpace(p[key])
	if len(raw) == 0 || string(raw) == "null" {
		return math.NaN(), nil
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, fmt.Errorf("%w: %q: want a number, got %.40s", sentinel, key, raw)
	}
	return v, nil
}

// length returns a radius or buffer property, which must be there; the
// caller checks its value.
func (p properties) length(key, missing string) (float64, error) {
	v, err := p.number(key, ErrRadius)
	if err == nil && math.IsNaN(v) {
		err = fmt.Errorf("%w: %s", ErrRadius, missing)
	}
	return v, err
}

// nonNegative returns a number property in [0, limit], 0 when absent.
func (p properties) nonNegative(key string, limit float64) (float64, error) {
	v, err := p.number(key, ErrProperty)
	switch {
	case err != nil:
		return 0, err
	case math.IsNaN(v):
		return 0, nil
	case v < 0 || v > limit:
		return 0, fmt.Errorf("%w: %q is %v, want 0…%v", ErrProperty, key, v, limit)
	}
	return v, nil
}

// tags returns the "tags" property followed by extra, without empty or
// repeated tags.
func (p properties) tags(extra []string) ([]string, error) {
	var list []string
	raw := bytes.TrimSpace(p["tags"])
	switch {
	case len(raw) == 0 || string(raw) == "null":
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("%w: \"tags\": %w", ErrProperty, err)
		}
		list = strings.Split(s, ",")
	default:
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("%w: \"tags\": want an array of strings or a comma-separated string, got %.40s", ErrProperty, raw)
		}
	}
	var tags []string
	for _, t := range append(list, extra...) {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return tags, nil
}
