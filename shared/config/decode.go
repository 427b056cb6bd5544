package config

import (
	"encoding"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// errQuote rejects a YAML number for a string, which would lose its form.
var errQuote = errors.New("number must be quoted")

// decoder stores the values read from one source in configuration fields.
type decoder struct {
	source string // where the values come from: a file, a variable or a flag
}

// decode stores raw in v, converting it to the type of v. raw is what a
// source read: a YAML value, the text of an environment variable, or a flag
// value. key names v in errors; secret hides raw from them.
func (d decoder) decode(v reflect.Value, raw any, key string, secret bool) error {
	t := v.Type()
	switch {
	case raw == nil:
		v.SetZero() // a null list element or mapping value
		return nil
	case reflect.TypeOf(raw) == t && isScalar(t):
		v.Set(reflect.ValueOf(raw)) // typed already, by pflag
		return nil
	case isScalar(t):
		return d.scalar(v, raw, key, secret)
	}
	switch t.Kind() {
	case reflect.Slice:
		return d.list(v, raw, key, secret)
	case reflect.Map:
		return d.mapping(v, raw, key, secret)
	default:
		return d.object(v, raw, key, secret)
	}
}

// scalar stores raw, a single value, in v.
func (d decoder) scalar(v reflect.Value, raw any, key string, secret bool) error {
	s, ok := scalarText(raw)
	if !ok {
		return d.invalid(key, raw, v.Type(), secret, nil)
	}
	if _, isFloat := raw.(float64); isFloat && v.Kind() == reflect.String {
		return d.invalid(key, raw, v.Type(), secret, errQuote) // 1.10 would be "1.1"
	}
	if err := parse(v, s); err != nil {
		return d.invalid(key, raw, v.Type(), secret, err)
	}
	return nil
}

// list stores raw, a list or comma-separated values, in v, a slice.
func (d decoder) list(v reflect.Value, raw any, key string, secret bool) error {
	var items []any
	switch r := reflect.ValueOf(raw); {
	case r.Kind() == reflect.Slice:
		for i := range r.Len() {
			items = append(items, r.Index(i).Interface())
		}
	case r.Kind() == reflect.String && isScalar(v.Type().Elem()):
		for _, item := range splitList(r.String()) {
			items = append(items, item)
		}
	default:
		return d.invalid(key, raw, v.Type(), secret, nil)
	}

	list := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, item := range items {
		if err := d.decode(list.Index(i), item, fmt.Sprintf("%s[%d]", key, i), secret); err != nil {
			return err
		}
	}
	v.Set(list)
	return nil
}

// mapping stores raw, a mapping or comma-separated key=value pairs, in v, a
// map with string keys.
func (d decoder) mapping(v reflect.Value, raw any, key string, secret bool) error {
	entries := map[string]any{}
	switch r := reflect.ValueOf(raw); {
	case r.Kind() == reflect.Map:
		for it := r.MapRange(); it.Next(); {
			entries[fmt.Sprint(it.Key().Interface())] = it.Value().Interface()
		}
	case r.Kind() == reflect.String && isScalar(v.Type().Elem()):
		for _, pair := range splitList(r.String()) {
			name, value, ok := strings.Cut(pair, "=")
			if !ok {
				return d.invalid(key, raw, v.Type(), secret, fmt.Errorf("%q is not a key=value pair", pair))
			}
			entries[strings.TrimSpace(name)] = strings.TrimSpace(value)
		}
	default:
		return d.invalid(key, raw, v.Type(), secret, nil)
	}

	m := reflect.MakeMapWithSize(v.Type(), len(entries))
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		elem := reflect.New(v.Type().Elem()).Elem()
		if err := d.decode(elem, entries[name], key+"."+name, secret); err != nil {
			return err
		}
		m.SetMapIndex(reflect.ValueOf(name).Convert(v.Type().Key()), elem)
	}
	v.Set(m)
	return nil
}

// object stores raw, a mapping, in v, a struct that is an element of a list
// or map. Fields raw does not mention keep their zero value.
func (d decoder) object(v reflect.Value, raw any, key string, secret bool) error {
	values, ok := raw.(map[string]any)
	if !ok {
		return d.invalid(key, raw, v.Type(), secret, nil)
	}
	fields := fieldsOf(v.Type())
	for _, name := range slices.Sorted(maps.Keys(values)) {
		i := slices.IndexFunc(fields, func(f field) bool { return f.name == name })
		if i < 0 {
			var known []string
			for _, f := range fields {
				known = append(known, join(key, f.name))
			}
			return unknownKey(d.source, join(key, name), known)
		}
		f := fields[i]
		if err := d.decode(v.FieldByIndex(f.index), values[name], join(key, name), secret || f.secret); err != nil {
			return err
		}
	}
	return nil
}

// invalid returns the error for raw, a bad value for key, of type t.
func (d decoder) invalid(key string, raw any, t reflect.Type, secret bool, err error) *FieldError {
	if secret {
		raw, err = mask, nil // the cause may quote the value
	}
	return &FieldError{Source: d.source, Key: key, Value: raw, Allowed: describe(t), Err: err}
}

// scalarText returns raw, a single value, as text: strings as they are,
// numbers and booleans formatted. ok is false if raw is not a single value.
func scalarText(raw any) (s string, ok bool) {
	switch r := reflect.ValueOf(raw); r.Kind() {
	case reflect.String:
		return r.String(), true
	case reflect.Bool:
		return strconv.FormatBool(r.Bool()), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(r.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(r.Uint(), 10), true
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(r.Float(), 'g', -1, r.Type().Bits()), true
	}
	return "", false
}

// parse stores s in v, a scalar, parsed as the type of v requires.
func parse(v reflect.Value, s string) error {
	if v.Type() == durationType {
		d, err := time.ParseDuration(s)
		v.SetInt(int64(d))
		return err
	}
	if isTextUnmarshaler(v.Type()) {
		return v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
	}

	var err error
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		var b bool
		b, err = strconv.ParseBool(s)
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var n int64
		n, err = strconv.ParseInt(s, 10, v.Type().Bits())
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		var n uint64
		n, err = strconv.ParseUint(s, 10, v.Type().Bits())
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		var f float64
		f, err = strconv.ParseFloat(s, v.Type().Bits())
		v.SetFloat(f)
	}
	if numErr := (*strconv.NumError)(nil); errors.As(err, &numErr) {
		return numErr.Err // the value and the function are in the message already
	}
	return err
}

// splitList splits comma-separated values, trimming the space around them.
// An empty or blank s is an empty list.
func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	items := strings.Split(s, ",")
	for i, item := range items {
		items[i] = strings.TrimSpace(item)
	}
	return items
}
