package esia

// WaitProbe waits until the circuit breaker's probe under way, if any, has
// finished and changed the breaker's state.
func WaitProbe(c *Config) { c.breakerState().probes.Wait() }
