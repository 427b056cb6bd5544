// Package fences keeps the vehicle's copy of its account's geofences: a
// local key-value bucket mirroring the hub's through the leaf node, so the
// fences survive restarts and outages, and an index rebuilt and swapped
// atomically whenever they change.
package fences
