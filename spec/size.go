package spec

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
)

var sizeRE = regexp.MustCompile(`^([0-9]+)\s*([A-Za-z]*)$`)

// sizeUnits are the units a size may carry. Decimal units are refused on
// purpose: "64KB" is ambiguous, and asyncio's limits are powers of two.
var sizeUnits = map[string]int{"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}

// parseSize reads a size in bytes: "65536", "64KiB", "1MiB".
func parseSize(s string) (int, error) {
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a size: write a number of bytes, optionally with KiB, MiB or GiB, as in 64KiB", s)
	}
	unit, ok := sizeUnits[m[2]]
	if !ok {
		hint := ""
		switch m[2] {
		case "K", "KB", "k", "kb", "kB":
			hint = " (did you mean KiB?)"
		case "M", "MB", "m", "mb":
			hint = " (did you mean MiB?)"
		case "G", "GB", "g", "gb":
			hint = " (did you mean GiB?)"
		}
		return 0, fmt.Errorf("unknown size unit %q%s: use B, KiB, MiB or GiB", m[2], hint)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n > math.MaxInt32/int64(unit) {
		return 0, fmt.Errorf("size %s is too large", s)
	}
	return int(n) * unit, nil
}
