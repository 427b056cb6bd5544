package config

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
)

// Options names the sources Load reads, besides the defaults already in the
// destination struct. Every source is optional.
type Options struct {
	// File is a YAML file. A file named here that does not exist is an error.
	File string
	// YAML is a YAML document held in memory (one fetched from a store),
	// read in place of File, which must then be empty. YAMLSource names it
	// in errors, as File names the file.
	YAML       []byte
	YAMLSource string
	// EnvPrefix selects the environment variables to read, e.g. "FLEETWIRE_".
	// Every variable with the prefix must name a key. Empty reads none.
	EnvPrefix string
	// Flags is a parsed flag set. Flags the user set whose names are keys
	// override everything else; its other flags are left to the caller.
	Flags *pflag.FlagSet
	// Environ replaces os.Environ, in the same "NAME=value" form: tests pass
	// their own, and a caller can drop prefixed variables meant for itself.
	Environ []string
}

// Validator is implemented by configuration structs that check themselves.
// Load calls Validate last; it should report a bad value with Invalid.
type Validator interface {
	Validate() error
}

// Load fills dst, a pointer to a configuration struct that already holds the
// defaults, from the sources in o: the YAML file, then the environment, then
// the flags. Each source overrides the keys it sets; a list or map is
// replaced whole. A null in the file leaves its key as it was. Load then
// calls dst.Validate if dst is a Validator.
//
// Keys come from `koanf:"name"` field tags, dotted across nested structs
// ("hub.store_dir"); untagged fields are not configuration, except embedded
// structs, whose keys are inlined. The environment variable of a key is the
// prefix followed by the key upper-cased with dots turned into underscores
// (FLEETWIRE_HUB_STORE_DIR). In environment variables and flags a list is
// written as comma-separated values ("a,b") and a map as comma-separated
// key=value pairs; lists of structs can only be set in the file.
//
// A bad value is reported as a *FieldError; an unknown key in the file or
// environment wraps ErrUnknownKey. On any error, dst is left unchanged.
func Load(dst any, o Options) error {
	ptr := reflect.ValueOf(dst)
	if ptr.Kind() != reflect.Pointer || ptr.IsNil() || ptr.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config: Load needs a non-nil pointer to a struct, not %T", dst)
	}
	s, err := schemaOf(ptr.Elem().Type())
	if err != nil {
		return err
	}

	// Work on a copy so that an error leaves dst as it was. Sources replace
	// lists and maps rather than modify them, so a shallow copy will do.
	work := reflect.New(ptr.Elem().Type())
	work.Elem().Set(ptr.Elem())
	l := &loader{schema: s, cfg: work.Elem()}

	if o.YAML != nil && o.File != "" {
		return fmt.Errorf("config: Options.File and Options.YAML are exclusive")
	}
	if err := l.loadFile(o.File); err != nil {
		return err
	}
	if err := l.loadYAML(o.YAML, o.YAMLSource); err != nil {
		return err
	}
	if err := l.loadEnv(o.EnvPrefix, o.Environ); err != nil {
		return err
	}
	if err := l.loadFlags(o.Flags); err != nil {
		return err
	}

	if v, ok := work.Interface().(Validator); ok {
		if err := v.Validate(); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) && s.isSecret(fe.Key) {
				fe.Value = mask
			}
			return err
		}
	}
	ptr.Elem().Set(work.Elem())
	return nil
}

// loader applies sources, one after the other, to the struct being loaded.
type loader struct {
	schema *schema
	cfg    reflect.Value // the struct, addressable
}

// loadFile applies the YAML file at path, if any.
func (l *loader) loadFile(path string) error {
	if path == "" {
		return nil
	}
	values, err := read(file.Provider(path), yaml.Parser())
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("config: %w", err) // the *fs.PathError names the file
	}
	if err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	return l.apply(values, "", func(string) string { return path })
}

// loadYAML applies a YAML document held in memory, if any; source names it.
func (l *loader) loadYAML(doc []byte, source string) error {
	if doc == nil {
		return nil
	}
	if source == "" {
		source = "YAML document"
	}
	values, err := read(bytesProvider(doc), yaml.Parser())
	if err != nil {
		return fmt.Errorf("config: %s: %w", source, err)
	}
	return l.apply(values, "", func(string) string { return source })
}

// bytesProvider is a koanf.Provider of a document in memory.
type bytesProvider []byte

func (b bytesProvider) ReadBytes() ([]byte, error) { return b, nil }

func (b bytesProvider) Read() (map[string]any, error) {
	return nil, errors.New("config: bytesProvider needs a parser")
}

// loadEnv applies the environment variables starting with prefix, if any.
func (l *loader) loadEnv(prefix string, environ []string) error {
	if prefix == "" {
		return nil
	}
	byVar := make(map[string]*key, len(l.schema.settable))
	for _, k := range l.schema.settable {
		byVar[envVar(prefix, k.name)] = k
	}

	var unknown []error
	opt := env.Opt{
		Prefix: prefix,
		TransformFunc: func(name, value string) (string, any) {
			k, ok := byVar[name]
			if !ok {
				unknown = append(unknown, l.unknownVar(name, byVar))
				return "", nil
			}
			return k.name, value
		},
	}
	if environ != nil {
		opt.EnvironFunc = func() []string { return environ }
	}
	values, err := read(env.Provider(".", opt), nil)
	if err != nil {
		return fmt.Errorf("config: environment: %w", err)
	}
	if len(unknown) > 0 {
		return errors.Join(unknown...)
	}
	return l.apply(values, "", func(key string) string { return envVar(prefix, key) })
}

// unknownVar reports the environment variable name that matches no key,
// suggesting the closest variable that does.
func (l *loader) unknownVar(name string, byVar map[string]*key) error {
	hint := ""
	if near := closest(name, slices.Sorted(maps.Keys(byVar))); near != "" {
		hint = fmt.Sprintf(" (did you mean %s for %q?)", near, byVar[near].name)
	}
	return fmt.Errorf("config: environment: %w %s%s", ErrUnknownKey, name, hint)
}

// loadFlags applies the flags of fs that the user set and that name keys.
func (l *loader) loadFlags(fs *pflag.FlagSet) error {
	if fs == nil {
		return nil
	}
	// Without a koanf instance to consult, posflag reads only changed flags.
	p := posflag.ProviderWithFlag(fs, ".", nil, func(f *pflag.Flag) (string, any) {
		if _, ok := l.schema.settable[f.Name]; !ok {
			return "", nil
		}
		if v, ok := f.Value.(*flagValue); ok {
			return f.Name, v.text()
		}
		return f.Name, posflag.FlagVal(fs, f)
	})
	values, err := read(p, nil)
	if err != nil {
		return fmt.Errorf("config: flags: %w", err)
	}
	return l.apply(values, "", func(key string) string { return "--" + key })
}

// read loads one source with koanf and returns its values as nested maps.
func read(p koanf.Provider, pa koanf.Parser) (map[string]any, error) {
	k := koanf.New(".")
	if err := k.Load(p, pa); err != nil {
		return nil, err
	}
	return k.Raw(), nil
}

// apply stores values, the nested maps read from one source, in the struct.
// prefix is the key of the section values belongs to; source names the
// origin of a key's value in errors. It reports every bad key, not just the
// first.
func (l *loader) apply(values map[string]any, prefix string, source func(key string) string) error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(values)) {
		raw, key := values[name], join(prefix, name)
		k, settable := l.schema.settable[key]
		switch {
		case raw == nil:
			// A null, or a section whose keys are all commented out.
		case settable:
			d := decoder{source: source(key)}
			if err := d.decode(l.cfg.FieldByIndex(k.index), raw, key, k.secret); err != nil {
				errs = append(errs, err)
			}
		case l.schema.sections[key]:
			section, ok := raw.(map[string]any)
			if !ok {
				errs = append(errs, &FieldError{Source: source(key), Key: key, Value: raw, Allowed: "a mapping of " + key + ".* keys"})
				continue
			}
			if err := l.apply(section, key, source); err != nil {
				errs = append(errs, err)
			}
		default:
			errs = append(errs, unknownKey(source(key), key, l.schema.names))
		}
	}
	return errors.Join(errs...)
}

// envVar returns the environment variable that sets key.
func envVar(prefix, key string) string {
	return prefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// join returns the key name within the section prefix.
func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}
