package config

import (
	"errors"
	"reflect"

	"github.com/spf13/pflag"
)

// RegisterFlags adds to fs a flag for every key of dst that can be written as
// text, which is every key but lists and maps of structs. A flag is named
// after its key (--hub.store_dir), its usage is the key's doc tag and its
// default is the key's value in dst, so that --help documents every setting.
// Lists take comma-separated values and may be repeated; maps take key=value
// pairs. A bad value fails fs.Parse.
//
// The flags do not write to dst: pass fs to Load in Options.Flags, which
// applies the flags the user set after the file and the environment.
// RegisterFlags panics if dst is not a configuration struct or a pointer to
// one, or if fs has a flag with the name of a key already.
func RegisterFlags(fs *pflag.FlagSet, dst any) {
	s, cfg := mustSchema(dst)
	for _, k := range s.keys {
		if k.index == nil || !isText(k.typ) {
			continue
		}
		v := reflect.New(k.typ).Elem()
		v.Set(cfg.FieldByIndex(k.index))
		fs.Var(&flagValue{key: k, v: v}, k.name, k.doc)
	}
}

// flagValue is the pflag.Value of a key's flag. It parses values like Load
// parses environment variables, so that bad ones fail early, and keeps the
// result for Load.
type flagValue struct {
	key *key
	v   reflect.Value // the default until the flag is set, then its value
	set bool          // whether the flag has been set, to append to lists
}

// String returns the value, "***" for a set secret, for pflag's help.
func (f *flagValue) String() string {
	if f.key.secret && !f.v.IsZero() {
		return mask
	}
	return f.text()
}

// text returns the value as Set would take it.
func (f *flagValue) text() string {
	return format(f.v)
}

// Set parses s. A list flag set more than once collects every value.
func (f *flagValue) Set(s string) error {
	v := reflect.New(f.v.Type()).Elem()
	if err := (decoder{}).decode(v, s, f.key.name, f.key.secret); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return errors.New(fe.reason()) // pflag names the flag and the value
		}
		return err
	}
	if f.set && v.Kind() == reflect.Slice {
		v = reflect.AppendSlice(f.v, v)
	}
	f.v.Set(v)
	f.set = true
	return nil
}

// Type names the type of the value for pflag's help.
func (f *flagValue) Type() string {
	return typeName(f.v.Type())
}

// IsBoolFlag lets a bool flag be given without a value: --hub.enabled.
func (f *flagValue) IsBoolFlag() bool {
	return f.v.Kind() == reflect.Bool
}
