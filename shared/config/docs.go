package config

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// KeyDoc documents a configuration key.
type KeyDoc struct {
	Key     string // e.g. "hub.store_dir"; a field of list elements is "subscriptions[].url"
	Type    string // e.g. "string", "int", "duration", "[]string", "map[string]string", "[]object"
	Default string // the value in the struct, written as in an environment variable; "***" for a secret
	Doc     string // the doc tag
	Env     string // the environment variable that sets the key; empty if none does
}

// Keys documents every key of dst, a configuration struct or a pointer to
// one holding the defaults, sorted by key. Environment variables are named
// with envPrefix; an empty envPrefix leaves them out. Keys is for generating
// a configuration reference; it panics if dst is not a configuration struct.
func Keys(dst any, envPrefix string) []KeyDoc {
	s, cfg := mustSchema(dst)
	docs := make([]KeyDoc, 0, len(s.keys))
	for _, k := range s.keys {
		d := KeyDoc{Key: k.name, Type: typeName(k.typ), Doc: k.doc}
		if k.index != nil {
			v := cfg.FieldByIndex(k.index)
			d.Default = format(v)
			if k.secret && !v.IsZero() {
				d.Default = mask
			}
			if envPrefix != "" && isText(k.typ) {
				d.Env = envVar(envPrefix, k.name)
			}
		}
		docs = append(docs, d)
	}
	return docs
}

// Markdown returns the keys of dst, as documented by Keys, as a Markdown table.
func Markdown(dst any, envPrefix string) string {
	var b strings.Builder
	b.WriteString("| Key | Type | Default | Environment variable | Description |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	for _, d := range Keys(dst, envPrefix) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n",
			code(d.Key), escape(d.Type), code(d.Default), code(d.Env), escape(d.Doc))
	}
	return b.String()
}

// code formats s as inline code in a table cell; empty stays empty.
func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + escape(s) + "`"
}

// escape keeps s from ending a table cell or row.
func escape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// format writes v as it would be written in an environment variable or a
// flag: lists as comma-separated values, maps as sorted key=value pairs.
// A list or map of structs is summarised by its length.
func format(v reflect.Value) string {
	t := v.Type()
	if text, ok := marshalText(v); ok {
		return text
	}
	switch {
	case t == durationType:
		return time.Duration(v.Int()).String()
	case !isText(t) && (t.Kind() == reflect.Slice || t.Kind() == reflect.Map):
		switch v.Len() {
		case 0:
			return ""
		case 1:
			return "(1 entry)"
		}
		return fmt.Sprintf("(%d entries)", v.Len())
	}

	switch t.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, t.Bits())
	case reflect.Slice:
		items := make([]string, v.Len())
		for i := range items {
			items[i] = format(v.Index(i))
		}
		return strings.Join(items, ",")
	case reflect.Map:
		pairs := make([]string, 0, v.Len())
		for it := v.MapRange(); it.Next(); {
			pairs = append(pairs, it.Key().String()+"="+format(it.Value()))
		}
		slices.Sort(pairs)
		return strings.Join(pairs, ",")
	}
	return fmt.Sprint(v.Interface())
}

// marshalText returns v as text if v, or a pointer to it, is an
// encoding.TextMarshaler.
func marshalText(v reflect.Value) (string, bool) {
	if !v.Type().Implements(textMarshalerType) && v.CanAddr() {
		v = v.Addr()
	}
	m, ok := v.Interface().(encoding.TextMarshaler)
	if !ok {
		return "", false
	}
	text, err := m.MarshalText()
	return string(text), err == nil
}
