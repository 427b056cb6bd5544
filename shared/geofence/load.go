package geofence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// LoadOptions tells Load how to read fences that lack properties of their
// own.
type LoadOptions struct {
	// Source names the input in errors and in derived IDs. LoadFile sets
	// it to the file's base name when empty; Load uses "input".
	Source string
	// Account is the account of fences without an "account" property.
	Account string
	// Tags are added to the tags of every fence, e.g. "low-emission-zone".
	Tags []string
	// IDProperty names the property to take the ID from when a feature
	// has neither an "id" property nor a top-level "id", e.g. "fileName"
	// for the Munich low-emission zone or "RS" for the Regensburg
	// districts. Its value (a string or a number) becomes the ID as is.
	IDProperty string
	// NameProperty names the property to take the name from when a
	// feature has no "name" property, e.g. "displayName" or "STB_NAME".
	NameProperty string
}

// LoadFile reads the GeoJSON file at path; see Load.
func LoadFile(path string, opts LoadOptions) ([]*Fence, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geofence: %w", err)
	}
	defer f.Close()
	if opts.Source == "" {
		opts.Source = filepath.Base(path)
	}
	return Load(f, opts)
}

// Load reads a GeoJSON FeatureCollection, or a single Feature, and returns
// one Fence per feature, in input order.
//
// Geometries: Polygon (outer ring and holes) and MultiPolygon become
// KindPolygon; a Point with a "radius" property (metres) KindCircle; a
// LineString with a "bufferMeters" property KindCorridor. Other types are
// rejected.
//
// Properties, all optional:
//
//   - "id" (string or number), else the feature's top-level "id", else the
//     property opts.IDProperty, else "<source>#<index>" (the source
//     without its extension, the index from 0);
//   - "name", else the property opts.NameProperty, else the ID;
//   - "account", else opts.Account;
//   - "tags": an array of strings or one comma-separated string; opts.Tags
//     are added, duplicates and empty tags dropped;
//   - "speedLimitKph" and "dwellSeconds": non-negative numbers.
//
// Every feature is checked as the package documentation describes; IDs
// must be unique within one Load.
// When any feature is rejected Load returns no fences and an error joining
// one *FenceError per rejected feature (errors.Join), each matching
// ErrInvalid. Malformed JSON, or JSON that is not a Feature or
// FeatureCollection, is a single error that also matches ErrInvalid.
func Load(r io.Reader, opts LoadOptions) ([]*Fence, error) {
	if opts.Source == "" {
		opts.Source = "input"
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("geofence: %s: %w", opts.Source, err)
	}
	var doc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("geofence: %s: %w: %w", opts.Source, ErrInvalid, err)
	}
	var features []json.RawMessage
	switch doc.Type {
	case "FeatureCollection":
		features = doc.Features
	case "Feature":
		features = []json.RawMessage{data}
	default:
		return nil, fmt.Errorf("geofence: %s: %w: GeoJSON type %q, want FeatureCollection or Feature", opts.Source, ErrInvalid, doc.Type)
	}

	fences := make([]*Fence, 0, len(features))
	var errs []error
	seen := make(map[string]int, len(features)) // ID → feature index
	for i, raw := range features {
		f, err := loadFeature(raw, i, &opts)
		if err == nil {
			if first, dup := seen[f.ID]; dup {
				err = fmt.Errorf("%w: %q is also the ID of feature %d", ErrDuplicateID, f.ID, first)
			} else {
				seen[f.ID] = i
			}
		}
		if err != nil {
			fe := &FenceError{Source: opts.Source, Index: i, Err: err}
			if f != nil {
				fe.ID = f.ID
			}
			errs = append(errs, fe)
			continue
		}
		fences = append(fences, f)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return fences, nil
}

// jsonFeature is a GeoJSON Feature, its parts left raw for the checks.
type jsonFeature struct {
	Type       string                     `json:"type"`
	ID         json.RawMessage            `json:"id"`
	Geometry   *jsonGeometry              `json:"geometry"`
	Properties map[string]json.RawMessage `json:"properties"`
}

type jsonGeometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

// loadFeature turns feature i into a Fence. On error the Fence, when not
// nil, carries the ID (and nothing else of use) for the message.
func loadFeature(raw json.RawMessage, i int, opts *LoadOptions) (*Fence, error) {
	var jf jsonFeature
	if err := json.Unmarshal(raw, &jf); err != nil {
		return nil, fmt.Errorf("not a GeoJSON Feature: %w", err)
	}
	if jf.Type != "Feature" {
		return nil, fmt.Errorf("GeoJSON type %q, want Feature", jf.Type)
	}
	props := properties(jf.Properties)
	f := &Fence{}
	id, err := featureID(&jf, props, i, opts)
	if err != nil {
		return nil, err
	}
	f.ID = id
	if err := props.apply(f, opts); err != nil {
		return f, err
	}
	if f.geom, f.Kind, err = loadGeometry(jf.Geometry, props); err != nil {
		return f, err
	}
	return f, nil
}

// featureID picks the ID as Load documents.
func featureID(jf *jsonFeature, props properties, i int, opts *LoadOptions) (string, error) {
	if id, err := props.text("id"); id != "" || err != nil {
		return id, err
	}
	if id, err := scalarText(jf.ID); id != "" || err != nil {
		if err != nil {
			err = fmt.Errorf("%w: top-level id: %w", ErrProperty, err)
		}
		return id, err
	}
	if opts.IDProperty != "" {
		if id, err := props.text(opts.IDProperty); id != "" || err != nil {
			return id, err
		}
	}
	base := strings.TrimSuffix(opts.Source, filepath.Ext(opts.Source))
	return fmt.Sprintf("%s#%d", base, i), nil
}

// loadGeometry checks the geometry and builds it.
func loadGeometry(g *jsonGeometry, props properties) (geometry, Kind, error) {
	if g == nil {
		return nil, 0, fmt.Errorf("%w: feature has no geometry", ErrUnsupportedGeometry)
	}
	switch g.Type {
	case "Polygon":
		var rings [][][]*float64
		if err := decodeCoordinates(g, &rings); err != nil {
			return nil, 0, err
		}
		part, err := loadPolygon(rings, "")
		if err != nil {
			return nil, 0, err
		}
		return newPolygon([][][]point{part}), KindPolygon, nil
	case "MultiPolygon":
		var polys [][][][]*float64
		if err := decodeCoordinates(g, &polys); err != nil {
			return nil, 0, err
		}
		if len(polys) == 0 {
			return nil, 0, fmt.Errorf("%w: MultiPolygon without polygons", ErrTooFewPoints)
		}
		parts := make([][][]point, len(polys))
		for i, rings := range polys {
			part, err := loadPolygon(rings, fmt.Sprintf("polygon %d: ", i))
			if err != nil {
				return nil, 0, err
			}
			parts[i] = part
		}
		return newPolygon(parts), KindPolygon, nil
	case "Point":
		var pos []*float64
		if err := decodeCoordinates(g, &pos); err != nil {
			return nil, 0, err
		}
		c, err := checkPosition(pos)
		if err != nil {
			return nil, 0, fmt.Errorf("Point: %w", err)
		}
		radius, err := props.number("radius", ErrRadius)
		if err != nil {
			return nil, 0, err
		}
		if math.IsNaN(radius) {
			return nil, 0, fmt.Errorf("%w: a Point needs a \"radius\" property in metres", ErrRadius)
		}
		circ, err := newCircle(c, radius)
		return circ, KindCircle, err
	case "LineString":
		var list [][]*float64
		if err := decodeCoordinates(g, &list); err != nil {
			return nil, 0, err
		}
		line, err := checkPositions(list)
		if err == nil {
			line, err = checkLine(line)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("LineString: %w", err)
		}
		buffer, err := props.number("bufferMeters", ErrRadius)
		if err != nil {
			return nil, 0, err
		}
		if math.IsNaN(buffer) {
			return nil, 0, fmt.Errorf("%w: a LineString needs a \"bufferMeters\" property", ErrRadius)
		}
		c, err := newCorridor(line, buffer)
		return c, KindCorridor, err
	case "":
		return nil, 0, fmt.Errorf("%w: geometry without a type", ErrUnsupportedGeometry)
	default:
		return nil, 0, fmt.Errorf("%w: %q (want Polygon, MultiPolygon, Point with radius or LineString with bufferMeters)",
			ErrUnsupportedGeometry, g.Type)
	}
}

// decodeCoordinates decodes the geometry's coordinates into v, one of the
// nestings of []*float64 (a nil number is a JSON null).
func decodeCoordinates(g *jsonGeometry, v any) error {
	if len(g.Coordinates) == 0 {
		return fmt.Errorf("%s: %w: coordinates: missing", g.Type, ErrCoordinates)
	}
	if err := json.Unmarshal(g.Coordinates, v); err != nil {
		return fmt.Errorf("%s: %w: coordinates: %w", g.Type, ErrCoordinates, err)
	}
	return nil
}

// loadPolygon checks the rings of one polygon; prefix names it within a
// MultiPolygon.
func loadPolygon(rings [][][]*float64, prefix string) ([][]point, error) {
	if len(rings) == 0 {
		return nil, fmt.Errorf("%s%w: polygon without rings", prefix, ErrTooFewPoints)
	}
	out := make([][]point, len(rings))
	for r, list := range rings {
		name := "outer ring"
		if r > 0 {
			name = fmt.Sprintf("hole %d", r)
		}
		ring, err := checkPositions(list)
		if err == nil {
			ring, err = checkRing(ring)
		}
		if err != nil {
			return nil, fmt.Errorf("%s%s: %w", prefix, name, err)
		}
		out[r] = ring
	}
	return out, nil
}

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
