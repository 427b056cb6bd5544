package geofence

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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
//
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
		if f != nil { // the ID is known, even if the feature is rejected
			if first, dup := seen[f.ID]; dup && err == nil {
				err = fmt.Errorf("%w: %q is also the ID of feature %d", ErrDuplicateID, f.ID, first)
			} else if !dup {
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
	id, err := featureID(&jf, props, i, opts)
	if err != nil {
		return nil, err
	}
	f := &Fence{ID: id}
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
	var (
		geom geometry
		kind Kind
		err  error
	)
	switch g.Type {
	case "Polygon", "MultiPolygon":
		geom, err = loadPolygonGeometry(g)
		kind = KindPolygon
	case "Point":
		geom, err = loadCircle(g, props)
		kind = KindCircle
	case "LineString":
		geom, err = loadCorridor(g, props)
		kind = KindCorridor
	case "":
		err = fmt.Errorf("%w: geometry without a type", ErrUnsupportedGeometry)
	default:
		err = fmt.Errorf("%w: %q (want Polygon, MultiPolygon, Point with radius or LineString with bufferMeters)",
			ErrUnsupportedGeometry, g.Type)
	}
	if err != nil {
		return nil, 0, err
	}
	return geom, kind, nil
}

// loadPolygonGeometry loads a Polygon or MultiPolygon.
func loadPolygonGeometry(g *jsonGeometry) (geometry, error) {
	var polys [][][][]*float64
	if g.Type == "Polygon" {
		var rings [][][]*float64
		if err := decodeCoordinates(g, &rings); err != nil {
			return nil, err
		}
		polys = [][][][]*float64{rings}
	} else {
		if err := decodeCoordinates(g, &polys); err != nil {
			return nil, err
		}
		if len(polys) == 0 {
			return nil, fmt.Errorf("%w: MultiPolygon without polygons", ErrTooFewPoints)
		}
	}
	parts := make([][][]point, len(polys))
	for i, rings := range polys {
		prefix := ""
		if g.Type == "MultiPolygon" {
			prefix = fmt.Sprintf("polygon %d: ", i)
		}
		part, err := loadPolygon(rings, prefix)
		if err != nil {
			return nil, err
		}
		parts[i] = part
	}
	return newPolygon(parts), nil
}

// loadCircle loads a Point with a "radius" property.
func loadCircle(g *jsonGeometry, props properties) (geometry, error) {
	var pos []*float64
	if err := decodeCoordinates(g, &pos); err != nil {
		return nil, err
	}
	centre, err := checkPosition(pos)
	if err != nil {
		return nil, fmt.Errorf("Point: %w", err)
	}
	radius, err := props.length("radius", "a Point needs a \"radius\" property in metres")
	if err != nil {
		return nil, err
	}
	c, err := newCircle(centre, radius)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// loadCorridor loads a LineString with a "bufferMeters" property.
func loadCorridor(g *jsonGeometry, props properties) (geometry, error) {
	var list [][]*float64
	if err := decodeCoordinates(g, &list); err != nil {
		return nil, err
	}
	line, err := checkPositions(list)
	if err == nil {
		line, err = checkLine(line)
	}
	if err != nil {
		return nil, fmt.Errorf("LineString: %w", err)
	}
	buffer, err := props.length("bufferMeters", "a LineString needs a \"bufferMeters\" property")
	if err != nil {
		return nil, err
	}
	c, err := newCorridor(line, buffer)
	if err != nil {
		return nil, err
	}
	return c, nil
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
