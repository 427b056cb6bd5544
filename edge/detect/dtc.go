package detect

import (
	"time"

	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/event"
)

// DTC reports dtc.detected and dtc.cleared, one event per trouble code.
//
// Rule: a code is detected the first time a report of the active codes
// (state.Snapshot.DTCs) lists it; ECUs latch codes already, so this needs
// no debounce. It is cleared once the reports have gone without it for
// dtc.clear_after (30 s): a report that misses it now and then (a lost
// multi-frame message, an intermittent fault) does not flap, and a code
// reported again within that time continues its episode. Each episode is
// reported once, detected and cleared.
type DTC struct {
	cfg      Config
	active   []activeCode // sorted by code
	spare    []activeCode // the other buffer for merging, reused
	reportAt time.Time    // the report merged last
}

// activeCode is one detected code.
type activeCode struct {
	code   string
	source state.Source
	since  time.Time // the first report that listed it
	gone   time.Time // the first report that did not; zero while listed
}

// NewDTC returns a trouble-code detector.
func NewDTC(cfg Config) *DTC { return &DTC{cfg: cfg} }

// Detect implements Detector.
func (d *DTC) Detect(in Input, emit func(Emission)) {
	cur := in.Change.Cur
	report := cur.DTCs
	if !report.Valid() {
		return
	}
	if !report.At.Equal(d.reportAt) {
		d.merge(report, cur.At, emit)
	}
	d.clear(cur.At, emit)
}

// merge compares a new report with the active codes: codes it lists for
// the first time are detected, codes it lacks start their countdown.
func (d *DTC) merge(report state.Reading[[]string], now time.Time, emit func(Emission)) {
	d.reportAt = report.At
	codes, merged := report.Value, d.spare[:0]
	i, j := 0, 0
	for i < len(d.active) || j < len(codes) {
		switch {
		case j == len(codes) || i < len(d.active) && d.active[i].code < codes[j]:
			a := d.active[i]
			if a.gone.IsZero() {
				a.gone = report.At
			}
			merged = append(merged, a)
			i++
		case i == len(d.active) || codes[j] < d.active[i].code:
			merged = append(merged, activeCode{code: codes[j], source: report.Source, since: report.At})
			emit(Emission{Type: event.TypeDTCDetected, At: now, Data: event.DTCDetectedData{
				Code: codes[j], Source: string(report.Source),
			}})
			j++
		default: // listed again
			a := d.active[i]
			a.gone, a.source = time.Time{}, report.Source
			merged = append(merged, a)
			i, j = i+1, j+1
		}
	}
	d.active, d.spare = merged, d.active
}

// clear removes the codes missing for dtc.clear_after, reporting them.
func (d *DTC) clear(now time.Time, emit func(Emission)) {
	kept := d.active[:0]
	for _, a := range d.active {
		if a.gone.IsZero() || now.Sub(a.gone) < d.cfg.DTC.ClearAfter {
			kept = append(kept, a)
			continue
		}
		emit(Emission{Type: event.TypeDTCCleared, At: now, Data: event.DTCClearedData{
			Code: a.code, Source: string(a.source), ActiveS: seconds(a.gone.Sub(a.since)),
		}})
	}
	clear(d.active[len(kept):])
	d.active = kept
}
