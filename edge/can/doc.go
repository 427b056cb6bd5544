// Package can is the edge's CAN bus: the frame type, frame sources
// (candump logs for replay and tests, live SocketCAN on Linux) and ISO-TP
// reassembly.
//
// ParseLine decodes one line of candump output without allocating. The
// sources all implement Source, skip what they cannot decode with a
// count in their Stats and a rate-limited warning, and stop promptly when
// their context is cancelled:
//
//   - Reader reads candump output from any io.Reader, such as a pipe from
//     candump;
//   - Replay plays a candump log file back, paced by its timestamps, for
//     tests, demos and bench runs;
//   - Conn, opened with Dial, is a live SocketCAN interface, and also a
//     Sender (Linux only).
//
// Sub-package isotp reassembles ISO-TP (ISO 15765-2) messages, such as
// multi-frame OBD-II answers, from the frames.
package can
