package sampler

import (
	"errors"
	"fmt"
)

// errStatm is wrapped by every error parseStatm returns.
var errStatm = errors.New("malformed /proc/self/statm")

// parseStatmResident returns the second field of /proc/<pid>/statm, the
// number of resident pages. The file is one line of space-separated decimal
// page counts: size resident shared text lib data dt.
func parseStatmResident(b []byte) (uint64, error) {
	i := 0
	// Skip the first field (total program size) and the space after it.
	for i < len(b) && b[i] != ' ' {
		i++
	}
	if i == 0 || i >= len(b) {
		return 0, fmt.Errorf("%w: no second field in %q", errStatm, b)
	}
	i++
	start := i
	var n uint64
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		d := uint64(b[i] - '0')
		if n > (1<<64-1-d)/10 {
			return 0, fmt.Errorf("%w: resident pages overflow in %q", errStatm, b)
		}
		n = n*10 + d
	}
	if i == start || (i < len(b) && b[i] != ' ' && b[i] != '\n') {
		return 0, fmt.Errorf("%w: bad resident field at byte %d in %q", errStatm, start, b)
	}
	return n, nil
}
