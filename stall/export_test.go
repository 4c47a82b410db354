package stall

// SetCaptureDuty sets the share of time goroutine profiles may take, so a
// test can see several captures in a few seconds, and returns a function
// that restores it.
func SetCaptureDuty(d float64) (restore func()) {
	old := captureDuty
	captureDuty = d
	return func() { captureDuty = old }
}
