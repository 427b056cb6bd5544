package obd

import (
	"errors"
	"fmt"
)

// Errors returned by the decoders and the Poller. They are wrapped with a
// message that names the problem; test for them with errors.Is.
var (
	// ErrMalformed means the input is not a well-formed response: too
	// short, cut off inside a PID's data, an ISO-TP length that does not
	// fit the frame, or a DTC count that does not match the payload.
	ErrMalformed = errors.New("obd: malformed response")

	// ErrUnexpectedService means the payload is a well-formed response,
	// but to another service than the decoder handles (for example a
	// Mode 03 payload given to DecodeResponse).
	ErrUnexpectedService = errors.New("obd: unexpected service")

	// ErrUnknownPID means a Mode 01 response carries a PID that is not in
	// the signal table, so its data length is unknown and decoding stops.
	ErrUnknownPID = errors.New("obd: unknown PID")

	// ErrNegativeResponse means an ECU rejected the request (service
	// 0x7F). The error is a *NegativeResponseError carrying the codes.
	ErrNegativeResponse = errors.New("obd: negative response")

	// ErrInvalidVIN means a Mode 09 VIN answer does not hold 17 allowed
	// characters (digits and capital letters other than I, O and Q).
	ErrInvalidVIN = errors.New("obd: invalid VIN")

	// ErrInvalidOptions means PollerOptions failed validation.
	ErrInvalidOptions = errors.New("obd: invalid options")

	// ErrNoSupportedPIDs means the vehicle answered the supported-PID
	// requests but supports none of the PIDs the Poller was asked to poll.
	ErrNoSupportedPIDs = errors.New("obd: vehicle supports none of the configured PIDs")

	// ErrRunning means Run was called on a Poller that is already running.
	ErrRunning = errors.New("obd: poller is already running")
)

// A NegativeResponseError is an ECU's refusal of a request: the payload
// 0x7F, the rejected service, a negative response code. It matches
// ErrNegativeResponse with errors.Is.
type NegativeResponseError struct {
	// ECU is the CAN ID the refusal came from; 0 when not known (the
	// payload decoders do not see frames).
	ECU uint32
	// Service is the service the request asked for, such as 0x01.
	Service byte
	// Code is the negative response code (NRC), such as 0x12.
	Code NRC
}

// Error returns, for example,
//
//	obd: negative response from 0x7eb to service 0x19: subFunctionNotSupported (0x12)
func (e *NegativeResponseError) Error() string {
	from := ""
	if e.ECU != 0 {
		from = fmt.Sprintf(" from %#x", e.ECU)
	}
	return fmt.Sprintf("obd: negative response%s to service %#02x: %s", from, e.Service, e.Code)
}

// Is reports whether target is ErrNegativeResponse.
func (e *NegativeResponseError) Is(target error) bool { return target == ErrNegativeResponse }

// An NRC is a negative response code (ISO 14229-1, used by J1979 too).
type NRC byte

// Negative response codes an OBD-II tester meets.
const (
	NRCGeneralReject                NRC = 0x10
	NRCServiceNotSupported          NRC = 0x11
	NRCSubFunctionNotSupported      NRC = 0x12
	NRCIncorrectLength              NRC = 0x13
	NRCBusyRepeatRequest            NRC = 0x21
	NRCConditionsNotCorrect         NRC = 0x22
	NRCRequestOutOfRange            NRC = 0x31
	NRCResponsePending              NRC = 0x78
	NRCServiceNotSupportedInSession NRC = 0x7F
)

var nrcNames = map[NRC]string{
	NRCGeneralReject:                "generalReject",
	NRCServiceNotSupported:          "serviceNotSupported",
	NRCSubFunctionNotSupported:      "subFunctionNotSupported",
	NRCIncorrectLength:              "incorrectMessageLengthOrInvalidFormat",
	NRCBusyRepeatRequest:            "busyRepeatRequest",
	NRCConditionsNotCorrect:         "conditionsNotCorrect",
	NRCRequestOutOfRange:            "requestOutOfRange",
	NRCResponsePending:              "requestCorrectlyReceived-ResponsePending",
	NRCServiceNotSupportedInSession: "serviceNotSupportedInActiveSession",
}

// String returns the ISO 14229-1 name and the code, such as
// "serviceNotSupported (0x11)", or just the code when it has no name here.
func (c NRC) String() string {
	if name, ok := nrcNames[c]; ok {
		return fmt.Sprintf("%s (%#02x)", name, byte(c))
	}
	return fmt.Sprintf("NRC %#02x", byte(c))
}

// negative decodes a 0x7F payload into a *NegativeResponseError.
func negative(ecu uint32, payload []byte) error {
	if len(payload) < 3 {
		return fmt.Errorf("%w: negative response % X is shorter than 3 bytes", ErrMalformed, payload)
	}
	return &NegativeResponseError{ECU: ecu, Service: payload[1], Code: NRC(payload[2])}
}
