package conformance

// describeCache registers the specs of the site-scoped app.Cache. (placeholder)
func describeCache(newBackend Factory, f Features) {}
