// Package can is the edge's CAN bus: the frame type, frame sources (candump
// logs for replay and tests, live SocketCAN on Linux) and ISO-TP reassembly.
package can
