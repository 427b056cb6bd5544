// Package settingsstore keeps the detection overrides of every account and
// vehicle in the hub's SETTINGS key-value bucket, as YAML documents with
// the keys of the edge agent's `detect:` section, validated with the edge's
// own code before they are stored. Each vehicle mirrors its account's and
// its own document through its leaf node.
package settingsstore
