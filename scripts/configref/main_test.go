package main

import (
	"os"
	"testing"
)

// TestReadmeUpToDate fails when a setting was added or changed without
// regenerating the README's configuration reference.
func TestReadmeUpToDate(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := splice(string(b), reference())
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Fatal("README.md's configuration reference is stale: run go run ./scripts/configref -write")
	}
}
