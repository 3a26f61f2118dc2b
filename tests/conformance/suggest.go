package conformance

// describeSuggest registers the specs of the Suggest port. (placeholder)
func describeSuggest(newBackend Factory, f Features) {}
