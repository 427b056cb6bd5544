package simulate

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetwire/fleetwire/edge/gnss"
)

// Drive is a recorded drive: its fixes, read once by the edge's own NMEA
// reader and filter (gnss.Reader, as a replay reads them), then shared
// read-only by every simulated vehicle.
type Drive struct {
	Path  string
	Fixes []gnss.Fix
	Stats gnss.Stats // what the reader decoded, skipped and filtered
}

// LoadDrive reads an NMEA 0183 log.
func LoadDrive(ctx context.Context, path string, log *slog.Logger) (*Drive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("simulate: drive: %w", err)
	}
	defer f.Close()
	r := gnss.NewReader(f, gnss.ReaderOptions{Name: path, Logger: log})
	d := &Drive{Path: path}
	if err := r.Run(ctx, func(fx gnss.Fix) error { d.Fixes = append(d.Fixes, fx); return nil }); err != nil {
		return nil, fmt.Errorf("simulate: drive %s: %w", path, err)
	}
	d.Stats = r.Stats()
	if len(d.Fixes) < 2 {
		return nil, fmt.Errorf("simulate: drive %s: %d usable fixes, need at least 2", path, len(d.Fixes))
	}
	return d, nil
}

// Duration is the drive's length in device time.
func (d *Drive) Duration() time.Duration {
	return d.Fixes[len(d.Fixes)-1].Time.Sub(d.Fixes[0].Time)
}

// replay is one vehicle's GNSS source: the drive from fix offset on, there
// and back again (the way back reverses the headings), shifted by (dLat,
// dLon), stamped from the wall time it starts and paced speed times faster
// than recorded. It waits for start, and ends (returns nil) at the wall
// deadline or after driveTime of device time, whichever comes first.
type replay struct {
	d          *Drive
	offset     int
	dLat, dLon float64
	speed      float64
	start      <-chan struct{} // closed when the fleet drives
	deadline   *time.Time      // wall time the drive ends; set before start closes
	driveTime  time.Duration   // device time to drive (0: until deadline)
	fixes      *atomic.Uint64  // fleet-wide count of emitted fixes
	driven     atomic.Int64    // device time of the last fix emitted, since the first
	ended      *sync.WaitGroup // Done when Run returns
}

// maxStep caps the device time between two consecutive fixes (a gap in the
// recording, or the turn at either end).
const maxStep = 2 * time.Second

// tick is the finest wall-clock pacing: fixes due within it are emitted
// together, so 10,000 vehicles at high speed do not each wake per fix.
const tick = 100 * time.Millisecond

func (r *replay) Run(ctx context.Context, emit func(gnss.Fix) error) error {
	defer r.ended.Done()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-r.start:
	}
	fixes := r.d.Fixes
	n := len(fixes)
	period := 2*n - 2 // there and back
	at := func(k int) (gnss.Fix, bool) {
		p := (r.offset + k) % period
		if p < n {
			return fixes[p], false
		}
		return fixes[period-p], true
	}
	wall0 := time.Now()
	device := wall0 // the first fix is stamped with the start time
	prev, _ := at(0)
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for k := 0; ; k++ {
		fx, back := at(k)
		if k > 0 {
			step := fx.Time.Sub(prev.Time)
			if step < 0 {
				step = -step
			}
			if step <= 0 || step > maxStep {
				step = time.Second
			}
			device = device.Add(step)
		}
		prev = fx
		elapsed := device.Sub(wall0)
		if r.driveTime > 0 && elapsed > r.driveTime {
			return nil
		}
		due := wall0.Add(time.Duration(float64(elapsed) / r.speed))
		if due.After(*r.deadline) {
			return nil
		}
		if wait := time.Until(due); wait > tick/2 {
			timer.Reset(max(wait, tick))
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return ctx.Err()
		}
		fx.Time = device
		fx.Lat += r.dLat
		fx.Lon += r.dLon
		if back && fx.HasHeading {
			fx.HeadingDeg = math.Mod(fx.HeadingDeg+180, 360)
		}
		if err := emit(fx); err != nil {
			return fmt.Errorf("simulate: emit: %w", err)
		}
		r.fixes.Add(1)
		r.driven.Store(int64(elapsed))
	}
}
