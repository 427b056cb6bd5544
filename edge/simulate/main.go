package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Main is fleetwire-edge simulate: Run, then the report on w. A stop by
// ctx (Ctrl-C) is clean: the report so far, and nil.
func Main(ctx context.Context, cfg Config, w io.Writer, log *slog.Logger) error {
	rep, err := Run(ctx, cfg, Hooks{}, log)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		fmt.Fprintln(w, "stopped before the end")
		err = nil
	}
	rep.Print(w)
	return err
}

// Print writes the report for people.
func (r Report) Print(w io.Writer) {
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	fmt.Fprintf(w, "vehicles           %d on %d leaf nodes (setup %s)\n", r.Vehicles, r.Leaves, ms(r.Setup))
	fmt.Fprintf(w, "drive              %s, %d fixes, %d events recorded; each vehicle drove %s to %s of device time\n",
		ms(r.Drive), r.Fixes, r.Recorded, r.DrivenMin.Round(time.Second), r.DrivenMax.Round(time.Second))
	fmt.Fprintf(w, "ingest             %.0f events/s onto the hub while driving (%d events)\n", r.IngestRate(), r.ForwardedDuringDrive)
	fmt.Fprintf(w, "drain              %s after the drive, drained %v: %d of %d recorded events on the hub\n", ms(r.Drain), r.Drained, r.OnHub, r.Recorded)
	fmt.Fprintf(w, "retries, dropped   %d, %d\n", r.Retries, r.Dropped)
	if v := r.Verified; v != nil {
		verdict := "every vehicle gap-free and in order"
		if !v.OK() {
			verdict = fmt.Sprintf("%d problems, first: %s", len(v.Problems), v.Problems[0])
		}
		fmt.Fprintf(w, "hub check          %d events of %d vehicles read in %s: %s\n", v.Events, v.Vehicles, ms(v.Took), verdict)
	}
}
