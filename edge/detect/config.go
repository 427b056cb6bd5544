package detect

import (
	"github.com/fleetwire/fleetwire/edge/state"
	"github.com/fleetwire/fleetwire/shared/detectconfig"
)

// The detectors' configuration lives in shared/detectconfig, so that the
// cloud validates the per-account and per-vehicle overrides it distributes
// with the very code the vehicles use. These aliases keep its names here.
type (
	// Config tunes the detectors; see detectconfig.Config.
	Config            = detectconfig.Config
	GNSSConfig        = detectconfig.GNSSConfig
	MotionConfig      = detectconfig.MotionConfig
	IgnitionConfig    = detectconfig.IgnitionConfig
	TripConfig        = detectconfig.TripConfig
	IdleConfig        = detectconfig.IdleConfig
	SpeedingConfig    = detectconfig.SpeedingConfig
	PostedSpeedConfig = detectconfig.PostedSpeedConfig
	GeofenceConfig    = detectconfig.GeofenceConfig
	RouteConfig       = detectconfig.RouteConfig
	VoltageConfig     = detectconfig.VoltageConfig
	DTCConfig         = detectconfig.DTCConfig
	TemperatureConfig = detectconfig.TemperatureConfig
	ServiceConfig     = detectconfig.ServiceConfig
	HarshConfig       = detectconfig.HarshConfig
)

// Default returns the configuration used when nothing is set.
func Default() Config { return detectconfig.Default() }

// Accepts reports whether pos is a fresh fix good enough to decide on under
// g: quality at least gnss.min_fix_quality, and HDOP and satellites within
// bounds when the receiver reports them. The agent uses it too, to decide
// whether Input.Fences can be computed.
func Accepts(g GNSSConfig, pos state.Reading[state.Position]) bool {
	if !pos.Valid() {
		return false
	}
	p := pos.Value
	return g.AcceptsFix(p.FixQuality, p.HDOP, p.Satellites)
}
