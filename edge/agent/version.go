package agent

// Version is the edge agent's version, carried by every event it stores
// (the Fleetwire-Agent-Version header, delivered as
// provenance.agentVersion). Release builds set it with
//
//	go build -ldflags "-X github.com/fleetwire/fleetwire/edge/agent.Version=v1.2.3"
var Version = "dev"
