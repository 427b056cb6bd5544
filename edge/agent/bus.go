package agent

import (
	"errors"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/fleetwire/fleetwire/edge/can"
	"github.com/fleetwire/fleetwire/edge/can/isotp"
	"github.com/fleetwire/fleetwire/edge/j1939"
	"github.com/fleetwire/fleetwire/edge/obd"
	"github.com/fleetwire/fleetwire/edge/state"
)

// obdSignals maps OBD-II Mode 01 PIDs to state signals.
var obdSignals = map[uint8]state.Signal{
	0x04: state.SignalEngineLoad,
	0x05: state.SignalCoolant,
	0x0C: state.SignalRPM,
	0x0D: state.SignalSpeed,
	0x0F: state.SignalIntakeAir,
	0x1F: state.SignalRunTime,
	0x2F: state.SignalFuelLevel,
	0x42: state.SignalBattery,
	0x46: state.SignalAmbient,
	0x5E: state.SignalFuelRate,
	0xA6: state.SignalOdometer,
}

// j1939Signals maps J1939 SPNs to state signals, with the factor from the
// SPN's unit to the signal's.
var j1939Signals = map[j1939.SPN]struct {
	sig    state.Signal
	factor float64
}{
	84:  {state.SignalSpeed, 1},
	92:  {state.SignalEngineLoad, 1},
	96:  {state.SignalFuelLevel, 1},
	110: {state.SignalCoolant, 1},
	168: {state.SignalBattery, 1},
	171: {state.SignalAmbient, 1},
	183: {state.SignalFuelRate, 1},
	190: {state.SignalRPM, 1},
	245: {state.SignalOdometer, 1},
	247: {state.SignalEngineHours, 1},
	917: {state.SignalOdometer, 0.001}, // m → km, the high-resolution distance
}

// update is one decoded vehicle-bus value, or a DTC set.
type update struct {
	at     time.Time
	sig    state.Signal
	value  float64
	source state.Source
	dtcs   []string // set when the update is a complete DTC list
}

// busDecoder turns CAN frames into state updates: OBD-II answers (single
// or multi-frame ISO-TP) and J1939 broadcasts (single or BAM).
type busDecoder struct {
	log   *slog.Logger
	obd   *obd.Decoder
	j1939 j1939.Decoder
	frame can.Frame // the frame being decoded; J1939 messages alias its data
	sigs  []j1939.Signal
	dm1   j1939.DM1
	// Counters of decode errors, logged rarely; per protocol for the
	// metrics, which read them while the bus runs.
	errs               int
	lastWarn           time.Time
	obdErrs, j1939Errs atomic.Uint64
}

// isotpAdapter plugs the isotp reassembler into the OBD decoder.
type isotpAdapter struct{ r *isotp.Reassembler }

func (a isotpAdapter) Add(f can.Frame) ([]byte, uint32, bool) {
	m, ok, err := a.r.Add(f)
	if err != nil || !ok {
		return nil, 0, false
	}
	return m.Data, m.ID, true
}

func newBusDecoder(log *slog.Logger) *busDecoder {
	return &busDecoder{
		log:  log,
		obd:  obd.NewDecoder(isotpAdapter{isotp.NewReassembler(isotp.Config{})}),
		sigs: make([]j1939.Signal, 0, 16),
	}
}

// decode calls apply for each value f carries.
func (b *busDecoder) decode(f can.Frame, apply func(update)) {
	if f.Extended && f.ID&0x1FFF0000 != 0x18DA0000 {
		b.decodeJ1939(f, apply)
		return
	}
	resp, ok, err := b.obd.Decode(f)
	if err != nil && !errors.Is(err, obd.ErrUnknownPID) { // PIDs outside our table are expected
		b.obdErrs.Add(1)
		b.warn(f.Time, "OBD-II", err)
	}
	if !ok {
		return
	}
	for _, s := range resp.Signals {
		if sig, known := obdSignals[s.PID]; known {
			apply(update{at: resp.Time, sig: sig, value: s.Value, source: state.SourceOBD})
		}
	}
	if len(resp.Payload) > 0 && (resp.Payload[0] == 0x43 || resp.Payload[0] == 0x47) {
		if dtcs, err := obd.DecodeDTCs(resp.Payload); err == nil {
			codes := make([]string, len(dtcs))
			for i, d := range dtcs {
				codes[i] = d.String()
			}
			apply(update{at: resp.Time, source: state.SourceOBD, dtcs: codes})
		}
	}
}

func (b *busDecoder) decodeJ1939(f can.Frame, apply func(update)) {
	b.frame = f // decoding through a field keeps f from escaping: no allocation per frame
	m, ok, err := b.j1939.Decode(&b.frame)
	if err != nil && !errors.Is(err, j1939.ErrNotJ1939) {
		b.j1939Errs.Add(1)
		b.warn(f.Time, "J1939", err)
	}
	if !ok {
		return
	}
	if m.PGN == j1939.PGNDM1 {
		if err := b.dm1.Decode(m.Data); err == nil {
			codes := make([]string, len(b.dm1.DTCs))
			for i, d := range b.dm1.DTCs {
				codes[i] = "SPN " + strconv.FormatUint(uint64(d.SPN), 10) + " FMI " + strconv.Itoa(int(d.FMI))
			}
			apply(update{at: m.Time, source: state.SourceJ1939, dtcs: codes})
		}
		return
	}
	b.sigs = j1939.AppendSignals(b.sigs[:0], m)
	for _, s := range b.sigs {
		if !s.Valid() {
			continue
		}
		if to, known := j1939Signals[s.Spec.SPN]; known {
			apply(update{at: m.Time, sig: to.sig, value: s.Value * to.factor, source: state.SourceJ1939})
		}
	}
}

// warn logs decode errors at most once a minute of bus time.
func (b *busDecoder) warn(at time.Time, proto string, err error) {
	b.errs++
	if at.Sub(b.lastWarn) < time.Minute {
		return
	}
	b.lastWarn = at
	b.log.Warn("vehicle bus: frames that could not be decoded were skipped", "protocol", proto, "skipped_total", b.errs, "example", err)
}
