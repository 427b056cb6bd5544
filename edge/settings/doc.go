// Package settings keeps the vehicle's copy of the detection overrides the
// cloud distributes — its account's and its own document of the hub's
// SETTINGS bucket — in a local key-value bucket mirrored through the leaf
// node, so they hold across restarts and outages, and layers them over the
// local configuration: local < account < vehicle.
package settings
