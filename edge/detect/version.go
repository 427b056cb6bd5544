package detect

// RuleVersion names the semantics of the detectors' rules. Each event
// carries the version that produced it (the Fleetwire-Rule-Version header,
// delivered as provenance.ruleVersion), so a receiver can tell events of
// old and new rules apart. Bump it when a rule decides differently on the
// same input: a threshold's meaning, a debounce or hysteresis, what starts
// or ends an episode. Changing a threshold's value in the configuration is
// not a new rule version.
const RuleVersion = "2"
