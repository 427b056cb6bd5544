// Package fencestore keeps every account's geofences in a JetStream
// key-value bucket on the hub, one GeoJSON Feature per key, which each
// vehicle mirrors through its leaf node.
package fencestore
