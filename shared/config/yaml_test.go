package config

import (
	"errors"
	"strings"
	"testing"
)

func TestLoadYAMLDocument(t *testing.T) {
	type cfg struct {
		Speed struct {
			Max float64 `koanf:"max"`
		} `koanf:"speed"`
	}
	var c cfg
	if err := Load(&c, Options{YAML: []byte("speed:\n  max: 90\n"), YAMLSource: "doc acme"}); err != nil || c.Speed.Max != 90 {
		t.Fatalf("loaded %+v, %v", c, err)
	}
	err := Load(&c, Options{YAML: []byte("speed:\n  mux: 80\n"), YAMLSource: "doc acme"})
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), "doc acme") || c.Speed.Max != 90 {
		t.Fatalf("unknown key: %v, %+v", err, c)
	}
	if err := Load(&c, Options{YAML: []byte{}, File: "x.yaml"}); err == nil {
		t.Fatal("File and YAML together accepted")
	}
}
