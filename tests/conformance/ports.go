package conformance

// describePorts registers the specs of KeyValue, Hash, Set, List and
// Invalidation. (placeholder: filled in by the ports specs)
func describePorts(newBackend Factory, f Features) {}
