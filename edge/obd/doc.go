// Package obd decodes OBD-II (SAE J1979) diagnostic responses read over CAN into engineering values,
// and polls a vehicle's ECUs for the Mode 01 parameters (PIDs) they support.
package obd
