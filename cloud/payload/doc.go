// Package payload renders an event envelope (shared/event, as stored in the
// EVENTS stream) into the HTTP body a subscription asked for: its format
// (JSON or an HTML form) and its shape (the full envelope or a minimal one).
//
// # Formats
//
// FormatJSON is the envelope itself, application/json. FormatForm is
// application/x-www-form-urlencoded, offered because receivers built like a
// form handler (a PHP script reading $_POST, a Rails or Express action, a
// no-code tool's catch hook) read it without a JSON parser. WEX Telematics
// offers exactly this pair ("Content Type: json (application/json) or form
// (application/x-www-form-urlencoded)"), and its customers' endpoints are
// the receivers this format is for.
//
// The form flattens the envelope with bracket keys: vehicle[id],
// location[lat], data[tags][0]. Bracket keys, not dotted ones, because the
// form decoders those receivers use (PHP, Rack, the qs module behind
// Express's urlencoded parser) rebuild nested objects and arrays from
// brackets, while PHP rewrites a dot in a field name into an underscore, so
// vehicle.id would arrive as vehicle_id, indistinguishable from a flat key.
// Arrays use explicit indexes (tags[0], tags[1]) so that order survives and
// decoders that key by index get the same array. Brackets are
// percent-encoded like every other reserved byte (vehicle%5Bid%5D), as
// browsers and url.Values do; all those decoders accept it.
//
// Values: strings are the decoded JSON strings; numbers keep the envelope's
// digits, except that an exponent is written out (1e-7 becomes 0.0000001,
// 1.5e+21 becomes 1500000000000000000000) so that no receiver has to parse
// scientific notation; true and false stay true and false; null is an empty
// value (key=). Empty objects and arrays produce no key, as PHP's
// http_build_query and qs do.
//
// Keys are sorted (by bytes) at every level of the envelope, array elements
// stay in index order, so the body is a function of the envelope's content
// and not of the order its producer wrote the fields in. A key that appears
// twice in one object counts once, with its last value, as encoding/json
// reads it.
//
// # Shapes
//
// ShapeFull is the whole envelope. ShapeMinimal keeps what a receiver needs
// to identify the event, order it, route it and fetch the rest by id — the
// same choice AntsRoute offers as "include or not all the work order
// information":
//
//	id             the webhook-id as well: idempotency key and handle to fetch the event
//	type           what happened; receivers route on it (WEX and AntsRoute name their webhooks by it)
//	schemaVersion  so that a receiver's version check works on both shapes
//	occurredAt     when ("Date et heure" in RAM Tracking's payload)
//	account        which customer: subscriptions are filtered per account and vehicle (Frotcom)
//	vehicle.id     which vehicle (RAM Tracking's vehicleId, Trackunit's asset)
//	seq            the per-vehicle sequence: a receiver sees a gap without fetching anything
//	corrects       on event.updated and event.retracted: the id of the event they supersede,
//	               so a receiver can void or refetch what it stored under that id
//	location.lat   where: RAM Tracking sends latitude and longitude with every event,
//	location.lon   and a position event (WEX's "Location" webhook) is nothing without them
//
// The driver, the vehicle's registration and name, speed, heading, altitude,
// fix quality and the type-specific data are left out (a correction's too:
// its new data is fetched by its id, like any event's). A minimal envelope is
// a subset of the full one with the same names and nesting, so one parser
// reads both.
//
// Render works on the envelope's bytes with a small scanner: it does not
// decode into Go types, so nothing is lost (a seq beyond 2^53, digits a float
// would round) and the full JSON body is the stored envelope byte for byte.
package payload
