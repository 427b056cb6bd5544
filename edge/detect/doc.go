// Package detect turns the vehicle state into fleet events on the vehicle:
// motion, ignition, trips, idling, speeding, posted speed limits, geofences,
// route deviation, low voltage, trouble codes, temperature, driver changes,
// service reminders and harsh driving.
//
// Each detector is a small pure type with its own state machine (see
// Detector for the contract); a Pipeline runs them in order over each state
// change. Every rule is debounced in device time, so that GNSS jitter and
// noisy signals report one event per episode, not a storm, and a fix that
// GNSSConfig does not accept never triggers anything.
package detect
