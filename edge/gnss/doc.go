// Package gnss turns the NMEA 0183 output of a GNSS receiver, live or replayed from a log file,
// into a stream of checked position fixes that the edge agent publishes as position events.
package gnss
