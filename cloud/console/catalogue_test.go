package console

import (
	"bytes"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"testing"

	"github.com/fleetwire/fleetwire/shared/event"
)

var update = flag.Bool("update", false, "rewrite static/catalogue.json from event.Catalogue()")

// catalogueJSON renders the event catalogue the console offers.
func catalogueJSON(t *testing.T) []byte {
	t.Helper()
	type entry struct {
		Type    string `json:"type"`
		Summary string `json:"summary"`
	}
	var out struct {
		Comment string  `json:"comment"`
		Types   []entry `json:"types"`
	}
	out.Comment = "Generated from shared/event.Catalogue() by go generate ./cloud/console; do not edit."
	for _, ti := range event.Catalogue() {
		out.Types = append(out.Types, entry{string(ti.Type), ti.Summary})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestCatalogueJSON keeps static/catalogue.json in step with the catalogue
// (go generate ./cloud/console rewrites it).
func TestCatalogueJSON(t *testing.T) {
	want := catalogueJSON(t)
	if *update {
		if err := os.WriteFile("static/catalogue.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := fs.ReadFile(Static(), "catalogue.json")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		got, _ = os.ReadFile("static/catalogue.json")
	}
	if !bytes.Equal(got, want) {
		t.Fatal("static/catalogue.json is out of date with shared/event.Catalogue(): run go generate ./cloud/console")
	}
}
