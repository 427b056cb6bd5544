package config

import (
	"encoding"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
)

var (
	durationType        = reflect.TypeFor[time.Duration]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// schema is what the struct type of a configuration says about its keys.
type schema struct {
	keys     []*key          // sorted by name, including the fields of list elements
	names    []string        // the names of settable keys and sections, sorted
	settable map[string]*key // keys a source sets directly, by name
	sections map[string]bool // nested structs: "hub", "edge.position"
}

// key is one configuration key.
type key struct {
	name   string       // "hub.store_dir"; "subscriptions[].url" for a field of list elements
	index  []int        // the field in the root struct; nil for fields of list elements
	typ    reflect.Type // the field's type
	doc    string       // the doc tag
	secret bool         // the secret tag
}

// schemaOf returns the schema of configuration struct type t, or an error
// if t has fields of a type Load cannot set or keys that collide.
func schemaOf(t reflect.Type) (*schema, error) {
	s := &schema{settable: map[string]*key{}, sections: map[string]bool{}}
	if err := s.add(t, "", nil, false); err != nil {
		return nil, err
	}
	slices.SortFunc(s.keys, func(a, b *key) int { return strings.Compare(a.name, b.name) })

	vars := map[string]string{}
	for _, k := range s.keys {
		if k.index == nil {
			continue
		}
		if other, ok := vars[envVar("", k.name)]; ok {
			return nil, fmt.Errorf("config: %s: keys %q and %q share an environment variable", t, other, k.name)
		}
		vars[envVar("", k.name)] = k.name
		s.names = append(s.names, k.name)
	}
	for name := range s.sections {
		s.names = append(s.names, name)
	}
	slices.Sort(s.names)
	return s, nil
}

// mustSchema returns the schema of dst, a configuration struct or a pointer
// to one, together with the struct itself. It panics on a programming error.
func mustSchema(dst any) (*schema, reflect.Value) {
	v := reflect.Indirect(reflect.ValueOf(dst))
	if v.Kind() != reflect.Struct {
		panic(fmt.Sprintf("config: need a struct or a pointer to one, not %T", dst))
	}
	s, err := schemaOf(v.Type())
	if err != nil {
		panic(err)
	}
	return s, v
}

// add adds the keys of the fields of struct type t, whose keys are in section
// prefix and whose fields are at index in the root struct. inList is set for
// the fields of list elements, which are documented but not set by key.
func (s *schema) add(t reflect.Type, prefix string, index []int, inList bool) error {
	for _, f := range fieldsOf(t) {
		k := &key{name: join(prefix, f.name), typ: f.typ, doc: f.doc, secret: f.secret}
		if !inList {
			k.index = append(slices.Clone(index), f.index...)
		}
		if _, dup := s.settable[k.name]; dup || s.sections[k.name] {
			return fmt.Errorf("config: %s: key %q is defined twice", t, k.name)
		}

		if isSection(f.typ) {
			if !inList {
				s.sections[k.name] = true
			}
			if err := s.add(f.typ, k.name, k.index, inList); err != nil {
				return err
			}
			continue
		}
		if err := checkType(f.typ); err != nil {
			return fmt.Errorf("config: %s: key %q: %w", t, k.name, err)
		}
		s.keys = append(s.keys, k)
		if !inList {
			s.settable[k.name] = k
		}
		if elem, suffix := elemStruct(f.typ); elem != nil {
			if err := s.add(elem, k.name+suffix, nil, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// elemIndex matches the index that error messages put in the name of a list
// element: the "[2]" in "subscriptions[2].url".
var elemIndex = regexp.MustCompile(`\[\d+\]`)

// isSecret reports whether the key named in an error, possibly an element of
// a list or map, holds a secret.
func (s *schema) isSecret(name string) bool {
	name = elemIndex.ReplaceAllString(name, "[]")
	for _, k := range s.keys {
		if k.secret && (name == k.name || strings.HasPrefix(name, k.name+".") || strings.HasPrefix(name, k.name+"[")) {
			return true
		}
	}
	return false
}

// field is a configuration field of a struct.
type field struct {
	name   string // the koanf tag
	index  []int  // for reflect.Value.FieldByIndex
	typ    reflect.Type
	doc    string
	secret bool
}

// fieldsOf returns the configuration fields of struct type t: its exported
// fields with a koanf tag, and the fields of its untagged embedded structs.
func fieldsOf(t reflect.Type) []field {
	var fields []field
	for sf := range t.Fields() {
		name, _, _ := strings.Cut(sf.Tag.Get("koanf"), ",")
		switch {
		case name == "" && sf.Anonymous && sf.Type.Kind() == reflect.Struct:
			for _, f := range fieldsOf(sf.Type) {
				f.index = append(slices.Clone(sf.Index), f.index...)
				fields = append(fields, f)
			}
		case sf.IsExported() && name != "" && name != "-":
			fields = append(fields, field{
				name:   name,
				index:  sf.Index,
				typ:    sf.Type,
				doc:    sf.Tag.Get("doc"),
				secret: sf.Tag.Get("secret") == "true",
			})
		}
	}
	return fields
}

// isSection reports whether a field of type t is a nested struct of keys
// rather than a value.
func isSection(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && !isScalar(t)
}

// isScalar reports whether t is a single value written as text.
func isScalar(t reflect.Type) bool {
	if t == durationType || isTextUnmarshaler(t) {
		return true
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// isTextUnmarshaler reports whether t parses itself from text.
func isTextUnmarshaler(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(textUnmarshalerType)
}

// isText reports whether a value of type t can be written in an environment
// variable or a flag: a scalar, or a list or map of scalars.
func isText(t reflect.Type) bool {
	switch {
	case isScalar(t):
		return true
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Map:
		return isScalar(t.Elem())
	}
	return false
}

// checkType returns an error if Load cannot set a value of type t.
func checkType(t reflect.Type) error {
	switch {
	case isScalar(t):
		return nil
	case t.Kind() == reflect.Slice:
		return checkType(t.Elem())
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
		return checkType(t.Elem())
	case t.Kind() == reflect.Struct:
		for _, f := range fieldsOf(t) {
			if err := checkType(f.typ); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unsupported type %s", t)
}

// elemStruct returns the element type of a list or map of structs, and the
// suffix that names an element in documentation; nil for other types.
func elemStruct(t reflect.Type) (reflect.Type, string) {
	switch {
	case t.Kind() == reflect.Slice && isSection(t.Elem()):
		return t.Elem(), "[]"
	case t.Kind() == reflect.Map && isSection(t.Elem()):
		return t.Elem(), ".*"
	}
	return nil, ""
}

// typeName names type t for documentation and flag help.
func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case isTextUnmarshaler(t):
		return "string"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "int"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "uint"
	case reflect.Float32, reflect.Float64:
		return "float"
	case reflect.Slice:
		return "[]" + typeName(t.Elem())
	case reflect.Map:
		return "map[string]" + typeName(t.Elem())
	case reflect.Struct:
		return "object"
	}
	return t.Kind().String()
}

// describe says what values of type t are allowed, for error messages.
func describe(t reflect.Type) string {
	switch {
	case t == durationType:
		return `a duration such as "10s" or "1m30s"`
	case isTextUnmarshaler(t):
		return "a valid " + t.String()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if t.Bits() == 64 {
			return "an integer"
		}
		return fmt.Sprintf("an integer from %d to %d", -int64(1)<<(t.Bits()-1), int64(1)<<(t.Bits()-1)-1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if t.Bits() == 64 {
			return "a non-negative integer"
		}
		return fmt.Sprintf("an integer from 0 to %d", uint64(1)<<t.Bits()-1)
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		if isScalar(t.Elem()) {
			return "a list, or comma-separated values"
		}
		return "a list, in the configuration file"
	case reflect.Map:
		if isScalar(t.Elem()) {
			return "a mapping, or comma-separated key=value pairs"
		}
		return "a mapping, in the configuration file"
	case reflect.Struct:
		var names []string
		for _, f := range fieldsOf(t) {
			names = append(names, f.name)
		}
		return "a mapping of " + strings.Join(names, ", ")
	}
	return t.String()
}
