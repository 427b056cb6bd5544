package detectconfig

import (
	"slices"
	"time"

	"github.com/fleetwire/fleetwire/shared/config"
)

// Config tunes the detectors. Keys are lower_snake and relative to where
// the agent nests the struct ("speeding.threshold_kph"). Speeds are km/h,
// distances metres unless the key says otherwise, durations device time.
// Where a key says "0: off", a zero value disables that detector.
type Config struct {
	GNSS        GNSSConfig        `koanf:"gnss"`
	Motion      MotionConfig      `koanf:"motion"`
	Ignition    IgnitionConfig    `koanf:"ignition"`
	Trip        TripConfig        `koanf:"trip"`
	Idle        IdleConfig        `koanf:"idle"`
	Speeding    SpeedingConfig    `koanf:"speeding"`
	PostedSpeed PostedSpeedConfig `koanf:"posted_speed"`
	Geofence    GeofenceConfig    `koanf:"geofence"`
	Route       RouteConfig       `koanf:"route"`
	Voltage     VoltageConfig     `koanf:"voltage"`
	DTC         DTCConfig         `koanf:"dtc"`
	Temperature TemperatureConfig `koanf:"temperature"`
	Service     ServiceConfig     `koanf:"service"`
	Harsh       HarshConfig       `koanf:"harsh"`
}

// GNSSConfig says which fixes are good enough to decide on: geofence and
// route decisions, and speeds that come from the receiver. A fix that fails
// is no evidence either way: detectors wait for a better one.
type GNSSConfig struct {
	MinFixQuality int     `koanf:"min_fix_quality" doc:"lowest NMEA GGA fix quality to decide on (1 GPS, 2 DGPS, 4 RTK…), >= 1"`
	MaxHDOP       float64 `koanf:"max_hdop" doc:"highest horizontal dilution of precision to decide on, when the receiver reports it, > 0"`
	MinSatellites int     `koanf:"min_satellites" doc:"fewest satellites in use to decide on, when the receiver reports them, >= 0"`
}

// AcceptsFix reports whether a fresh fix is good enough to decide on:
// quality at least MinFixQuality, and HDOP and satellites within bounds
// when the receiver reports them (0: not reported).
func (g GNSSConfig) AcceptsFix(fixQuality int, hdop float64, satellites int) bool {
	return fixQuality >= g.MinFixQuality &&
		(hdop == 0 || hdop <= g.MaxHDOP) &&
		(satellites == 0 || satellites >= g.MinSatellites)
}

// MotionConfig decides when the vehicle moves and when it stands still. The
// two thresholds form a hysteresis band: speeds between them confirm
// neither state.
type MotionConfig struct {
	MovingKph    float64       `koanf:"moving_kph" doc:"speed above which the vehicle moves, > motion.stopped_kph"`
	MovingAfter  time.Duration `koanf:"moving_after" doc:"how long the speed must stay above motion.moving_kph before vehicle.moving, >= 0"`
	StoppedKph   float64       `koanf:"stopped_kph" doc:"speed below which the vehicle is at rest, > 0"`
	StoppedAfter time.Duration `koanf:"stopped_after" doc:"how long the speed must stay below motion.stopped_kph before vehicle.stopped, >= 0"`
}

// IgnitionConfig debounces the ignition the vehicle state derives.
type IgnitionConfig struct {
	Debounce time.Duration `koanf:"debounce" doc:"how long a new ignition state must hold before ignition.on or ignition.off (and before switching off ends a trip or idling), >= 0"`
}

// TripConfig decides when a trip ends. A trip starts when the vehicle
// starts moving (see motion).
type TripConfig struct {
	EndAfter time.Duration `koanf:"end_after" doc:"a stop this long ends the trip (switching the ignition off ends it at once), > 0"`
}

// IdleConfig decides when a running engine at rest is idling.
type IdleConfig struct {
	After time.Duration `koanf:"after" doc:"how long the engine must run with the vehicle at rest before idle.started, > 0"`
}

// SpeedingConfig is the fleet-wide speed threshold.
type SpeedingConfig struct {
	ThresholdKph  float64       `koanf:"threshold_kph" doc:"speed at or above which the vehicle is speeding (0: off)"`
	HysteresisKph float64       `koanf:"hysteresis_kph" doc:"the episode ends below speeding.threshold_kph minus this, >= 0"`
	MinDuration   time.Duration `koanf:"min_duration" doc:"how long the speed must stay at or above the threshold before speeding.started, >= 0"`
}

// PostedSpeedConfig is the tolerance on the speed limits geofences post.
type PostedSpeedConfig struct {
	ToleranceKph float64       `koanf:"tolerance_kph" doc:"speed above a fence's limit tolerated before posted_speed.exceeded, >= 0"`
	After        time.Duration `koanf:"after" doc:"how long the speed must stay above limit plus tolerance, >= 0"`
}

// GeofenceConfig debounces geofence entries and exits, so that a vehicle
// driving along a fence's edge does not flap in and out with GNSS noise.
type GeofenceConfig struct {
	EnterAfter     time.Duration `koanf:"enter_after" doc:"inside on every good fix for this long confirms an entry (0: time alone never does)"`
	EnterDistanceM float64       `koanf:"enter_distance_m" doc:"driving this far inside on good fixes also confirms an entry (0: distance never does)"`
	ExitAfter      time.Duration `koanf:"exit_after" doc:"outside on every good fix for this long confirms an exit, >= 0"`
}

// RouteConfig decides when a vehicle has left its route: a corridor
// geofence it was driving along.
type RouteConfig struct {
	DistanceM   float64       `koanf:"distance_m" doc:"distance from the route's centre line, outside its corridor, that counts as off route, >= 0"`
	After       time.Duration `koanf:"after" doc:"how long the vehicle must stay off route before route.deviated, >= 0"`
	RejoinAfter time.Duration `koanf:"rejoin_after" doc:"how long the vehicle must be back inside a corridor before route.rejoined, >= 0"`
}

// VoltageConfig is the low-battery threshold.
type VoltageConfig struct {
	SystemV     float64       `koanf:"system_v" doc:"the vehicle's nominal electrical system: 12 or 24"`
	LowV        float64       `koanf:"low_v" doc:"battery voltage below which it is low (0: off); between 75% and 110% of voltage.system_v"`
	After       time.Duration `koanf:"after" doc:"how long the voltage must stay below voltage.low_v before voltage.low (rides out cranking), >= 0"`
	HysteresisV float64       `koanf:"hysteresis_v" doc:"the episode ends at voltage.low_v plus this, >= 0"`
}

// DTCConfig debounces cleared trouble codes.
type DTCConfig struct {
	ClearAfter time.Duration `koanf:"clear_after" doc:"how long a code must be missing from the reports before dtc.cleared, >= 0"`
}

// TemperatureConfig watches one temperature of the vehicle state.
type TemperatureConfig struct {
	Signal      string        `koanf:"signal" doc:"state signal to watch: coolant, intake_air or ambient (empty: off)"`
	MinC        float64       `koanf:"min_c" doc:"lowest allowed temperature in °C, < temperature.max_c"`
	MaxC        float64       `koanf:"max_c" doc:"highest allowed temperature in °C"`
	After       time.Duration `koanf:"after" doc:"how long the temperature must stay out of range before temperature.out_of_range, >= 0"`
	HysteresisC float64       `koanf:"hysteresis_c" doc:"the episode ends this far back inside the range, >= 0"`
}

// ServiceConfig schedules the next service by odometer, engine hours or
// both.
type ServiceConfig struct {
	OdometerIntervalKm  float64 `koanf:"odometer_interval_km" doc:"service interval in km (0: off)"`
	LastOdometerKm      float64 `koanf:"last_odometer_km" doc:"odometer reading at the last service, km"`
	EngineHoursInterval float64 `koanf:"engine_hours_interval" doc:"service interval in engine hours (0: off)"`
	LastEngineHours     float64 `koanf:"last_engine_hours" doc:"engine hours at the last service"`
}

// HarshConfig is the harsh braking and acceleration thresholds, judged on
// speed changes between readings close enough in time.
type HarshConfig struct {
	BrakingKphPerS      float64       `koanf:"braking_kph_per_s" doc:"deceleration in km/h per second at or beyond which braking is harsh, as a positive number (0: off)"`
	AccelerationKphPerS float64       `koanf:"acceleration_kph_per_s" doc:"acceleration in km/h per second at or beyond which it is harsh (0: off)"`
	MaxGap              time.Duration `koanf:"max_gap" doc:"speed readings further apart than this are not compared, > 0"`
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		GNSS:        GNSSConfig{MinFixQuality: 1, MaxHDOP: 5, MinSatellites: 4},
		Motion:      MotionConfig{MovingKph: 5, MovingAfter: 10 * time.Second, StoppedKph: 2, StoppedAfter: time.Minute},
		Ignition:    IgnitionConfig{Debounce: 2 * time.Second},
		Trip:        TripConfig{EndAfter: 5 * time.Minute},
		Idle:        IdleConfig{After: 5 * time.Minute},
		Speeding:    SpeedingConfig{ThresholdKph: 130, HysteresisKph: 5, MinDuration: 10 * time.Second},
		PostedSpeed: PostedSpeedConfig{ToleranceKph: 5, After: 5 * time.Second},
		Geofence:    GeofenceConfig{EnterAfter: 5 * time.Second, EnterDistanceM: 20, ExitAfter: 10 * time.Second},
		Route:       RouteConfig{DistanceM: 100, After: 30 * time.Second, RejoinAfter: 5 * time.Second},
		Voltage:     VoltageConfig{SystemV: 12, LowV: 11.8, After: 30 * time.Second, HysteresisV: 0.4},
		DTC:         DTCConfig{ClearAfter: 30 * time.Second},
		Temperature: TemperatureConfig{Signal: "coolant", MinC: -40, MaxC: 110, After: 30 * time.Second, HysteresisC: 2},
		Harsh:       HarshConfig{BrakingKphPerS: 12, AccelerationKphPerS: 11, MaxGap: 1500 * time.Millisecond},
	}
}

// Validate reports the first invalid setting as a *config.FieldError naming
// its key, relative to this struct: an agent that nests the struct under a
// section prefixes FieldError.Key with it.
func (c *Config) Validate() error {
	checks := []struct {
		key     string
		value   any
		bad     bool
		allowed string
	}{
		{"gnss.min_fix_quality", c.GNSS.MinFixQuality, c.GNSS.MinFixQuality < 1, "an integer >= 1 (0 would accept receivers without a fix)"},
		{"gnss.max_hdop", c.GNSS.MaxHDOP, !(c.GNSS.MaxHDOP > 0), "a number > 0, such as 5"},
		{"gnss.min_satellites", c.GNSS.MinSatellites, c.GNSS.MinSatellites < 0, "an integer >= 0"},

		{"motion.stopped_kph", c.Motion.StoppedKph, !(c.Motion.StoppedKph > 0), "a speed > 0, such as 2"},
		{"motion.moving_kph", c.Motion.MovingKph, !(c.Motion.MovingKph > c.Motion.StoppedKph), "a speed above motion.stopped_kph, such as 5"},
		{"motion.moving_after", c.Motion.MovingAfter, c.Motion.MovingAfter < 0, "a duration >= 0, such as 10s"},
		{"motion.stopped_after", c.Motion.StoppedAfter, c.Motion.StoppedAfter < 0, "a duration >= 0, such as 1m"},

		{"ignition.debounce", c.Ignition.Debounce, c.Ignition.Debounce < 0, "a duration >= 0, such as 2s"},
		{"trip.end_after", c.Trip.EndAfter, c.Trip.EndAfter <= 0, "a positive duration, such as 5m"},
		{"idle.after", c.Idle.After, c.Idle.After <= 0, "a positive duration, such as 5m"},

		{"speeding.threshold_kph", c.Speeding.ThresholdKph, negative(c.Speeding.ThresholdKph), "a speed > 0, or 0 to turn speeding events off"},
		{"speeding.hysteresis_kph", c.Speeding.HysteresisKph, negative(c.Speeding.HysteresisKph) || (c.Speeding.ThresholdKph > 0 && c.Speeding.HysteresisKph >= c.Speeding.ThresholdKph), "a speed >= 0 and below speeding.threshold_kph"},
		{"speeding.min_duration", c.Speeding.MinDuration, c.Speeding.MinDuration < 0, "a duration >= 0, such as 10s"},

		{"posted_speed.tolerance_kph", c.PostedSpeed.ToleranceKph, negative(c.PostedSpeed.ToleranceKph), "a speed >= 0, such as 5"},
		{"posted_speed.after", c.PostedSpeed.After, c.PostedSpeed.After < 0, "a duration >= 0, such as 5s"},

		{"geofence.enter_after", c.Geofence.EnterAfter, c.Geofence.EnterAfter < 0, "a duration >= 0, such as 5s"},
		{"geofence.enter_distance_m", c.Geofence.EnterDistanceM, negative(c.Geofence.EnterDistanceM), "a distance >= 0, such as 20"},
		{"geofence.enter_after", c.Geofence.EnterAfter, c.Geofence.EnterAfter == 0 && c.Geofence.EnterDistanceM == 0, "a positive duration when geofence.enter_distance_m is 0 (one of them must confirm entries)"},
		{"geofence.exit_after", c.Geofence.ExitAfter, c.Geofence.ExitAfter < 0, "a duration >= 0, such as 10s"},

		{"route.distance_m", c.Route.DistanceM, negative(c.Route.DistanceM), "a distance >= 0, such as 100"},
		{"route.after", c.Route.After, c.Route.After < 0, "a duration >= 0, such as 30s"},
		{"route.rejoin_after", c.Route.RejoinAfter, c.Route.RejoinAfter < 0, "a duration >= 0, such as 5s"},

		{"voltage.system_v", c.Voltage.SystemV, c.Voltage.SystemV != 12 && c.Voltage.SystemV != 24, "12 or 24"},
		{"voltage.low_v", c.Voltage.LowV, c.Voltage.LowV != 0 && !(c.Voltage.LowV >= 0.75*c.Voltage.SystemV && c.Voltage.LowV <= 1.1*c.Voltage.SystemV), "0 (off), or between 75% and 110% of voltage.system_v, such as 11.8 for 12 V or 23.6 for 24 V"},
		{"voltage.after", c.Voltage.After, c.Voltage.After < 0, "a duration >= 0, such as 30s"},
		{"voltage.hysteresis_v", c.Voltage.HysteresisV, negative(c.Voltage.HysteresisV), "a voltage >= 0, such as 0.4"},

		{"dtc.clear_after", c.DTC.ClearAfter, c.DTC.ClearAfter < 0, "a duration >= 0, such as 30s"},

		{"temperature.signal", c.Temperature.Signal, c.Temperature.Signal != "" && !isTemperature(c.Temperature.Signal), "coolant, intake_air, ambient, or empty to turn temperature events off"},
		{"temperature.min_c", c.Temperature.MinC, c.Temperature.Signal != "" && !(c.Temperature.MinC < c.Temperature.MaxC), "a temperature below temperature.max_c"},
		{"temperature.after", c.Temperature.After, c.Temperature.After < 0, "a duration >= 0, such as 30s"},
		{"temperature.hysteresis_c", c.Temperature.HysteresisC, negative(c.Temperature.HysteresisC) || (c.Temperature.Signal != "" && 2*c.Temperature.HysteresisC >= c.Temperature.MaxC-c.Temperature.MinC), "a temperature difference >= 0 and under half the range"},

		{"service.odometer_interval_km", c.Service.OdometerIntervalKm, negative(c.Service.OdometerIntervalKm), "a distance in km > 0, or 0 to turn odometer service events off"},
		{"service.last_odometer_km", c.Service.LastOdometerKm, negative(c.Service.LastOdometerKm), "an odometer reading >= 0"},
		{"service.engine_hours_interval", c.Service.EngineHoursInterval, negative(c.Service.EngineHoursInterval), "hours > 0, or 0 to turn engine-hours service events off"},
		{"service.last_engine_hours", c.Service.LastEngineHours, negative(c.Service.LastEngineHours), "engine hours >= 0"},

		{"harsh.braking_kph_per_s", c.Harsh.BrakingKphPerS, negative(c.Harsh.BrakingKphPerS), "a positive deceleration such as 12 (for <= -12 km/h per second), or 0 to turn it off"},
		{"harsh.acceleration_kph_per_s", c.Harsh.AccelerationKphPerS, negative(c.Harsh.AccelerationKphPerS), "a positive acceleration such as 11, or 0 to turn it off"},
		{"harsh.max_gap", c.Harsh.MaxGap, c.Harsh.MaxGap <= 0, "a positive duration, such as 1.5s"},
	}
	for _, ch := range checks {
		if ch.bad {
			return config.Invalid(ch.key, ch.value, ch.allowed)
		}
	}
	return nil
}

// TemperatureSignals are the vehicle-state signals measured in °C, the
// values temperature.signal takes besides "" (edge/detect checks that they
// match the vehicle state's signal table).
var TemperatureSignals = []string{"coolant", "intake_air", "ambient"}

// isTemperature reports whether name is a state signal measured in °C.
func isTemperature(name string) bool { return slices.Contains(TemperatureSignals, name) }

// negative reports whether x is below zero or not a number.
func negative(x float64) bool { return !(x >= 0) }
