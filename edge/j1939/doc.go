// Package j1939 decodes SAE J1939 traffic read from a truck's CAN bus: identifiers, the SPNs of
// the common parameter groups, DM1 diagnostics and transport-protocol (BAM, RTS/CTS) reassembly.
package j1939
