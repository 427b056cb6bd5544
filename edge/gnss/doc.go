// Package gnss turns the NMEA 0183 output of a GNSS receiver, live or replayed from a log file,
// into a stream of checked position fixes that the edge agent publishes as position events.
//
// The sources: Serial reads a receiver on a serial port (Linux), GPSD takes fixes from gpsd
// over its JSON protocol, Reader reads any io.Reader, and Replay plays a log file back.
package gnss
