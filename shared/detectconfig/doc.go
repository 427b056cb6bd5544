// Package detectconfig is the detection thresholds' configuration — the
// `detect:` section of the edge agent — with its defaults and validation,
// and the SETTINGS key-value bucket in which the cloud distributes
// per-account and per-vehicle overrides of it. Edge and cloud share it so
// that the hub refuses, before storing it, any document a vehicle would
// refuse.
package detectconfig
