package identity

import (
	"github.com/fleetwire/fleetwire/shared/detectconfig"
	"github.com/fleetwire/fleetwire/shared/event"
)

// Subject roots that exist only because connections are restricted: each
// vehicle gets subjects of its own for replies and mirror deliveries, so
// that its permissions can name them.
const (
	// IngestRoot is where vehicles publish signed events; the cloud's
	// ingest verifier moves them to event.SubjectRoot.
	IngestRoot = "fleet.ingest"
	// InboxRoot prefixes a vehicle's request replies (publish acks, direct
	// gets): fleet.inbox.<account>.<vehicle>.
	InboxRoot = "fleet.inbox"
	// DeliverRoot prefixes the deliveries of a vehicle's KV mirrors:
	// fleet.deliver.<account>.<vehicle>.
	DeliverRoot = "fleet.deliver"
	// CustomerInboxRoot prefixes a customer client's replies.
	CustomerInboxRoot = "fleet.cinbox"
)

// Permissions are the subjects a connection may publish to and receive,
// seen from that connection (nats-server's convention for leaf-node users
// too: "publish" is what flows from the vehicle into the hub).
type Permissions struct {
	Publish   []string
	Subscribe []string
}

// IngestSubject is where a vehicle publishes the event of subject
// event.Subject(account, vehicle, t).
func IngestSubject(account, vehicle string, t event.Type) string {
	return IngestRoot + "." + account + "." + vehicle + "." + event.TypeToken(t)
}

// InboxPrefix is the reply-subject prefix of a vehicle's client
// connection (nats.CustomInboxPrefix).
func InboxPrefix(account, vehicle string) string {
	return InboxRoot + "." + account + "." + vehicle
}

// DeliverPrefix is the deliver-subject prefix of a vehicle's mirrors of hub
// buckets (jetstream.ExternalStream.DeliverPrefix).
func DeliverPrefix(account, vehicle string) string {
	return DeliverRoot + "." + account + "." + vehicle
}

// Buckets a vehicle mirrors, named here so that permissions and mirrors
// agree (edge/fences and edge/settings use them).
const (
	GeofenceBucket = "FENCES"
	SettingsBucket = detectconfig.Bucket
)

// GeofenceFilter is the part of the geofence bucket an account's vehicles
// mirror.
func GeofenceFilter(account string) string { return "$KV." + GeofenceBucket + "." + account + ".>" }

// SettingsKeys are the settings keys a vehicle reads: its account's and its
// own thresholds.
func SettingsKeys(account, vehicle string) []string {
	return []string{detectconfig.AccountKey(account), detectconfig.VehicleKey(account, vehicle)}
}

// VehiclePermissions are the hub permissions of a vehicle's leaf node. It
// may:
//   - publish its own signed events (IngestSubject) and nothing else;
//   - read back its own last event, to resume numbering after a lost
//     publish ack (direct get by subject, in the hub's JetStream domain);
//   - create the consumers of its mirrors: its account's geofences, and its
//     account's and its own settings (each filter is in the API subject, so
//     the permission pins it), and answer their flow control;
//   - receive replies on its own inbox and mirror deliveries on its own
//     deliver prefix. It also receives the server's mirror-setup replies
//     ($JSC.R.<random>), which carry consumer metadata, never data.
//
// It cannot publish as another vehicle, publish to the EVENTS stream
// directly, read any stream, or create any other consumer.
func VehiclePermissions(hubDomain, eventsStream, account, vehicle string) Permissions {
	api := "$JS." + hubDomain + ".API."
	pub := []string{
		IngestRoot + "." + account + "." + vehicle + ".>",
		api + "DIRECT.GET." + eventsStream + "." + event.VehicleSubjects(account, vehicle),
		api + "CONSUMER.CREATE.KV_" + GeofenceBucket + ".*." + GeofenceFilter(account),
		"$JS.FC.KV_" + GeofenceBucket + ".>",
		"$JS.FC.KV_" + SettingsBucket + ".>",
	}
	for _, k := range SettingsKeys(account, vehicle) {
		pub = append(pub, api+"CONSUMER.CREATE.KV_"+SettingsBucket+".*.$KV."+SettingsBucket+"."+k)
	}
	return Permissions{
		Publish: pub,
		Subscribe: []string{
			InboxPrefix(account, vehicle) + ".>",
			DeliverPrefix(account, vehicle) + ".>",
			"$JSC.R.>",
		},
	}
}

// CustomerConsumer is the one durable consumer on the EVENTS stream that a
// customer credential for account may create and read.
func CustomerConsumer(account string) string { return "customer-" + account }

// CustomerInboxPrefix is the reply-subject prefix a customer's client must
// use (nats.CustomInboxPrefix).
func CustomerInboxPrefix(account string) string { return CustomerInboxRoot + "." + account }

// CustomerPermissions let a customer's own NATS client read its account's
// events from the hub's JetStream (domain-less API: the client connects to
// the hub directly): create, inspect and delete the consumer
// CustomerConsumer(account) with a filter inside its account's subjects,
// pull from it and acknowledge. Nothing can be published to events, and no
// other consumer or stream can be touched.
func CustomerPermissions(eventsStream, account string) Permissions {
	name := CustomerConsumer(account)
	api := "$JS.API."
	return Permissions{
		Publish: []string{
			api + "CONSUMER.CREATE." + eventsStream + "." + name + "." + event.SubjectRoot + "." + account + ".>",
			api + "CONSUMER.INFO." + eventsStream + "." + name,
			api + "CONSUMER.DELETE." + eventsStream + "." + name,
			api + "CONSUMER.MSG.NEXT." + eventsStream + "." + name,
			"$JS.ACK." + eventsStream + "." + name + ".>",
		},
		Subscribe: []string{CustomerInboxPrefix(account) + ".>"},
	}
}
