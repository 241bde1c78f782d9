package server

// SetMaxRosterBody lowers the bound of one roster upload for a test and
// returns how to restore it.
func SetMaxRosterBody(n int64) (restore func()) {
	old := maxRosterBody
	maxRosterBody = n
	return func() { maxRosterBody = old }
}
