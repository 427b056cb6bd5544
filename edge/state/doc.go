// Package state fuses what the vehicle's sensors report (GNSS fixes, OBD-II
// and J1939 signals) into one vehicle state, and hands every change to the
// detectors as a pair of immutable snapshots.
//
// Each value in a Snapshot is a Reading: the value, when it was observed and
// which source reported it. A reading older than its signal's maximum age is
// stale: Snapshot accessors report it as absent, so a detector never reuses
// a speed or an rpm that stopped arriving.
package state
