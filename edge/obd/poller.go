package obd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetwire/fleetwire/edge/can"
)

// FunctionalRequestID is the 11-bit CAN ID on which a tester addresses all
// emission-related ECUs at once (ISO 15765-4). They answer on 0x7E8–0x7EF.
const FunctionalRequestID = 0x7DF

// requestPadding fills the unused bytes of a request frame (ISO 15765-4
// sends 8-byte frames; the value is free, 0x55 is common).
const requestPadding = 0x55

// bitmapAttempts is how often discovery asks for a bitmap that an ECU
// which announced its range does not answer.
const bitmapAttempts = 3

// frameBuffer is how many received frames wait for Run before Receive
// drops them.
const frameBuffer = 64

// defaultPIDs are polled when PollerOptions.PIDs is empty.
var defaultPIDs = []uint8{
	0x01, // MIL and DTC count
	0x04, // engine load
	0x05, // coolant temperature
	0x0C, // engine speed
	0x0D, // vehicle speed
	0x0F, // intake air temperature
	0x11, // throttle position
	0x1F, // run time since engine start
	0x21, // distance with MIL on
	0x2F, // fuel level
	0x31, // distance since codes cleared
	0x42, // control module voltage
	0x46, // ambient air temperature
	0x5E, // fuel rate
	0xA6, // odometer
}

// PollerOptions configures a Poller. The zero value polls a default set
// of PIDs once a second.
type PollerOptions struct {
	// PIDs are the Mode 01 PIDs to poll, in this order, each from the
	// signal table (see Lookup). Those the vehicle does not support are
	// logged once and skipped. Default: 01 04 05 0C 0D 0F 11 1F 21 2F 31
	// 42 46 5E A6.
	PIDs []uint8
	// Interval is the period of one cycle over all PIDs (default 1s). A
	// cycle that takes longer delays the next; missed cycles are not
	// caught up.
	Interval time.Duration
	// Timeout bounds the wait for the answers to one request, and the
	// sending of it (default 100ms; J1979 allows an ECU 50 ms on CAN).
	Timeout time.Duration
	// Reassembler, if set, puts multi-frame responses together. One-PID
	// Mode 01 answers are single frames, so the Poller works without it.
	Reassembler Reassembler
	// Logger receives discovery results and send failures; nil means
	// slog.Default().
	Logger *slog.Logger
}

func (o *PollerOptions) setDefaults() {
	if len(o.PIDs) == 0 {
		o.PIDs = defaultPIDs
	}
	if o.Interval == 0 {
		o.Interval = time.Second
	}
	if o.Timeout == 0 {
		o.Timeout = 100 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Validate checks the options after defaults are applied.
func (o *PollerOptions) Validate() error {
	if o.Interval <= 0 {
		return fmt.Errorf("%w: interval %s must be positive", ErrInvalidOptions, o.Interval)
	}
	if o.Timeout <= 0 {
		return fmt.Errorf("%w: timeout %s must be positive", ErrInvalidOptions, o.Timeout)
	}
	var seen Supported
	for _, pid := range o.PIDs {
		switch {
		case index[pid].n == 0:
			return fmt.Errorf("%w: PID %#02x is not in the signal table", ErrInvalidOptions, pid)
		case seen.Has(pid):
			return fmt.Errorf("%w: PID %#02x is listed twice", ErrInvalidOptions, pid)
		}
		seen.Add(pid)
	}
	return nil
}

// A Reading is a Signal as one ECU reported it at one time.
type Reading struct {
	// Time is when the response was received.
	Time time.Time
	// ECU is the CAN ID of the ECU that answered, 0x7E8–0x7EF.
	ECU uint32
	Signal
}

// PollerStats counts what a Poller did since it was created.
type PollerStats struct {
	Requests          uint64 // requests sent
	Responses         uint64 // positive Mode 01 responses decoded
	Timeouts          uint64 // requests not answered by every ECU that supports the PID
	NegativeResponses uint64 // 0x7F refusals
	DecodeErrors      uint64 // responses that could not be decoded
	SendErrors        uint64 // requests the Sender failed to send
	Dropped           uint64 // received frames dropped because Run fell behind
}

// A Poller asks a vehicle's ECUs for Mode 01 PIDs on the functional
// request ID 0x7DF, over and over. Run first reads the supported-PID
// bitmaps of every ECU, then polls those configured PIDs that at least one
// ECU supports. Frames read from the bus reach it through Receive.
type Poller struct {
	sender can.Sender
	opts   PollerOptions
	frames chan can.Frame

	running atomic.Bool
	stats   struct {
		requests, responses, timeouts, negatives, decodeErrors, sendErrors, dropped atomic.Uint64
	}

	mu        sync.Mutex
	supported map[uint32]Supported // by ECU, from the last discovery
}

// NewPoller returns a Poller sending its requests through s.
func NewPoller(s can.Sender, opts PollerOptions) (*Poller, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: nil sender", ErrInvalidOptions)
	}
	opts.PIDs = slices.Clone(opts.PIDs)
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Poller{sender: s, opts: opts, frames: make(chan can.Frame, frameBuffer)}, nil
}

// Receive hands the Poller a frame read from the bus; the agent calls it
// for every frame its CAN source emits. Frames other than ECU responses
// (11-bit 0x7E8–0x7EF) are ignored at once. Receive never blocks: while Run
// is not running or falls behind by more than 64 frames, frames are
// dropped and counted. It is safe for concurrent use.
func (p *Poller) Receive(f can.Frame) {
	if f.Extended || f.ID < 0x7E8 || f.ID > 0x7EF {
		return
	}
	select {
	case p.frames <- f:
	default:
		p.stats.dropped.Add(1)
	}
}

// Stats returns the counts so far. It is safe to call while Run runs.
func (p *Poller) Stats() PollerStats {
	s := &p.stats
	return PollerStats{
		Requests:          s.requests.Load(),
		Responses:         s.responses.Load(),
		Timeouts:          s.timeouts.Load(),
		NegativeResponses: s.negatives.Load(),
		DecodeErrors:      s.decodeErrors.Load(),
		SendErrors:        s.sendErrors.Load(),
		Dropped:           s.dropped.Load(),
	}
}

// Supported returns the PIDs each ECU announced in the last discovery,
// keyed by the ECU's response ID; empty before Run has discovered any. It
// is safe to call while Run runs.
func (p *Poller) Supported() map[uint32]Supported {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.supported)
}

// Run discovers the supported PIDs and then polls until ctx is cancelled.
// It calls emit with every value decoded from a Mode 01 response, from the
// goroutine that called Run; a nil emit discards them.
//
// While no ECU answers the discovery (ignition off), Run asks again every
// Interval. Run returns ctx.Err() when ctx is cancelled, ErrNoSupportedPIDs
// (wrapped) when the vehicle supports none of the configured PIDs, the
// error emit returned (wrapped), or ErrRunning. A request the Sender fails
// to send is counted and logged, not returned: the next cycle tries again.
func (p *Poller) Run(ctx context.Context, emit func(Reading) error) error {
	if !p.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer p.running.Store(false)
	if emit == nil {
		emit = func(Reading) error { return nil }
	}
	s := &session{
		Poller:  p,
		decoder: NewDecoder(p.opts.Reassembler),
		emit:    emit,
		log:     p.opts.Logger,
	}
	p.drain()

	if err := s.discover(ctx); err != nil {
		return err
	}
	plan, err := s.plan()
	if err != nil {
		return err
	}
	return s.poll(ctx, plan)
}

// drain throws away frames received before Run started.
func (p *Poller) drain() {
	for {
		select {
		case <-p.frames:
		default:
			return
		}
	}
}

// A session is the state of one Run.
type session struct {
	*Poller
	decoder     *Decoder
	emit        func(Reading) error
	log         *slog.Logger
	sendFailing bool
	announced   map[uint32]Supported // by ECU: the bitmaps received
}

// A request is a PID to poll and the ECUs expected to answer it.
type request struct {
	pid  uint8
	want ecuSet
}

// An ecuSet is a set of ECUs by response ID, bit 0 for 0x7E8.
type ecuSet uint8

// ecuBit returns the set holding just id; empty for IDs outside
// 0x7E8–0x7EF (the shift then moves the bit out).
func ecuBit(id uint32) ecuSet { return 1 << (id - 0x7E8) }

// discover asks every ECU for its supported-PID bitmaps: PID 0x00 from
// whoever answers within Timeout, then each further range (0x20, 0x40, …)
// from the ECUs whose previous bitmap announced it, asking again when one
// of them stays silent. It repeats every Interval until at least one ECU
// answers PID 0x00.
func (s *session) discover(ctx context.Context) error {
	for again := false; ; again = true {
		s.announced = make(map[uint32]Supported)
		var want ecuSet // 0: wait the whole timeout, whoever answers
		for base := 0x00; ; base += 0x20 {
			if err := s.askBitmap(ctx, uint8(base), want); err != nil {
				return err
			}
			if base == 0xE0 {
				break
			}
			if want = s.supporting(uint8(base + 0x20)); want == 0 {
				break
			}
		}
		if len(s.announced) > 0 {
			break
		}
		if !again {
			s.log.Info("obd: no ECU answers the supported-PID request; asking again every interval", "interval", s.opts.Interval)
		}
		if err := s.idle(ctx, time.After(s.opts.Interval)); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.supported = maps.Clone(s.announced)
	s.mu.Unlock()
	return nil
}

// askBitmap asks for the bitmap PID base, up to bitmapAttempts times while
// an ECU in want stays silent: a missed bitmap would hide a whole range.
func (s *session) askBitmap(ctx context.Context, base uint8, want ecuSet) error {
	for range bitmapAttempts {
		answered, err := s.exchange(ctx, base, want)
		if err != nil || answered&want == want {
			return err
		}
	}
	return nil
}

// supporting returns the ECUs that announced pid.
func (s *session) supporting(pid uint8) ecuSet {
	var set ecuSet
	for ecu, sup := range s.announced {
		if sup.Has(pid) {
			set |= ecuBit(ecu)
		}
	}
	return set
}

// plan picks the configured PIDs that some ECU supports, and logs the
// others once.
func (s *session) plan() ([]request, error) {
	var (
		plan        []request
		unsupported []uint8
		all         Supported
	)
	for _, sup := range s.announced {
		all.Merge(sup)
	}
	for _, pid := range s.opts.PIDs {
		if want := s.supporting(pid); want != 0 {
			plan = append(plan, request{pid: pid, want: want})
		} else {
			unsupported = append(unsupported, pid)
		}
	}
	ecus := slices.Sorted(maps.Keys(s.announced))
	s.log.Info("obd: supported PIDs discovered", "ecus", fmt.Sprintf("%X", ecus), "supported", all.String())
	if len(unsupported) > 0 {
		s.log.Warn("obd: the vehicle does not support some configured PIDs; not polling them", "pids", hexPIDs(unsupported))
	}
	if len(plan) == 0 {
		return nil, fmt.Errorf("%w: configured %s, supported %s", ErrNoSupportedPIDs, hexPIDs(s.opts.PIDs), all)
	}
	return plan, nil
}

// poll runs the request cycles until ctx is cancelled.
func (s *session) poll(ctx context.Context, plan []request) error {
	ticker := time.NewTicker(s.opts.Interval)
	defer ticker.Stop()
	for {
		for _, r := range plan {
			if _, err := s.exchange(ctx, r.pid, r.want); err != nil {
				return err
			}
		}
		if err := s.idle(ctx, ticker.C); err != nil {
			return err
		}
	}
}

// idle handles late responses until next fires or ctx is cancelled.
func (s *session) idle(ctx context.Context, next <-chan time.Time) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-next:
			return nil
		case f := <-s.frames:
			if _, _, err := s.handle(f, 0); err != nil {
				return err
			}
		}
	}
}

// exchange sends a Mode 01 request for pid and handles responses until
// every ECU in want has answered it or Timeout has passed; with an empty
// want it waits the whole Timeout. It returns the ECUs that answered.
func (s *session) exchange(ctx context.Context, pid uint8, want ecuSet) (ecuSet, error) {
	req := can.Frame{
		Time: time.Now(),
		ID:   FunctionalRequestID,
		Len:  8,
		Data: [8]byte{2, ServiceCurrentData, pid, requestPadding, requestPadding, requestPadding, requestPadding, requestPadding},
	}
	sendCtx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	err := s.sender.Send(sendCtx, req)
	cancel()
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	s.noteSend(pid, err)
	if err != nil {
		return 0, nil
	}
	s.stats.requests.Add(1)

	timeout := time.NewTimer(s.opts.Timeout)
	defer timeout.Stop()
	var answered ecuSet
	for want == 0 || answered&want != want {
		select {
		case <-ctx.Done():
			return answered, ctx.Err()
		case <-timeout.C:
			if want != 0 {
				s.stats.timeouts.Add(1)
			}
			return answered, nil
		case f := <-s.frames:
			ecu, answers, err := s.handle(f, pid)
			if err != nil {
				return answered, err
			}
			if answers {
				answered |= ecuBit(ecu)
			}
		}
	}
	return answered, nil
}

// handle decodes one received frame and emits its signals. It reports
// whether the frame completed an answer to a request for pid: a Mode 01
// response that carries pid first, or a refusal of Mode 01. The error is
// the one emit returned.
func (s *session) handle(f can.Frame, pid uint8) (ecu uint32, answers bool, err error) {
	resp, ok, err := s.decoder.Decode(f)
	if !ok {
		return 0, false, nil
	}
	if err != nil {
		var refusal *NegativeResponseError
		switch {
		case !errors.As(err, &refusal):
			s.stats.decodeErrors.Add(1)
			s.log.Debug("obd: cannot decode response", "ecu", fmt.Sprintf("%#x", resp.ECU), "err", err)
			return resp.ECU, false, nil
		case refusal.Code == NRCResponsePending:
			return resp.ECU, false, nil
		default:
			s.stats.negatives.Add(1)
			return resp.ECU, refusal.Service == ServiceCurrentData, nil
		}
	}
	if resp.Payload[0] != ServiceCurrentData+positiveResponse {
		return resp.ECU, false, nil // another tester's exchange
	}
	s.stats.responses.Add(1)
	if resp.Supported.Len() > 0 {
		sup := s.announced[resp.ECU]
		sup.Merge(resp.Supported)
		s.announced[resp.ECU] = sup
	}
	t := resp.Time
	if t.IsZero() {
		t = time.Now()
	}
	for _, sig := range resp.Signals {
		if err := s.emit(Reading{Time: t, ECU: resp.ECU, Signal: sig}); err != nil {
			return resp.ECU, false, fmt.Errorf("obd: emit: %w", err)
		}
	}
	return resp.ECU, resp.Payload[1] == pid, nil
}

// noteSend counts a send failure and logs the first of a run of them, and
// the recovery.
func (s *session) noteSend(pid uint8, err error) {
	switch {
	case err != nil:
		s.stats.sendErrors.Add(1)
		if !s.sendFailing {
			s.log.Warn("obd: cannot send request; retrying every cycle", "pid", hexPIDs([]uint8{pid}), "err", err)
		}
	case s.sendFailing:
		s.log.Info("obd: sending requests again")
	}
	s.sendFailing = err != nil
}
