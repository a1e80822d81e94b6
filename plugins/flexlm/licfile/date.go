package licfile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrBadDate is wrapped by the errors of ParseDate.
var ErrBadDate = errors.New("bad date")

var months = map[string]time.Month{
	"jan": time.January, "feb": time.February, "mar": time.March, "apr": time.April,
	"may": time.May, "jun": time.June, "jul": time.July, "aug": time.August,
	"sep": time.September, "oct": time.October, "nov": time.November, "dec": time.December,
}

// ParseDate parses a FlexLM date, d-mmm-yyyy with a case-insensitive month
// name. A year written 0, 00 or 0000 means "never" and yields the zero Date
// and permanent == true; callers that do not accept it (START=) check.
func ParseDate(s string) (d Date, permanent bool, err error) {
	parts := strings.Split(s, "-")
	if len(parts) != 3 {
		return Date{}, false, fmt.Errorf("%w %q: want d-mmm-yyyy", ErrBadDate, s)
	}
	day, err := strconv.Atoi(parts[0])
	if err != nil || day < 1 || day > 31 || len(parts[0]) > 2 {
		return Date{}, false, fmt.Errorf("%w %q: day %q", ErrBadDate, s, parts[0])
	}
	month, ok := months[strings.ToLower(parts[1])]
	if !ok {
		return Date{}, false, fmt.Errorf("%w %q: month %q (want jan..dec)", ErrBadDate, s, parts[1])
	}
	ys := parts[2]
	year, err := strconv.Atoi(ys)
	if err != nil || year < 0 || ys[0] == '+' || ys[0] == '-' {
		return Date{}, false, fmt.Errorf("%w %q: year %q", ErrBadDate, s, ys)
	}
	if year == 0 {
		if len(ys) == 1 || len(ys) == 2 || len(ys) == 4 {
			return Date{}, true, nil
		}
		return Date{}, false, fmt.Errorf("%w %q: year %q", ErrBadDate, s, ys)
	}
	if len(ys) != 4 {
		return Date{}, false, fmt.Errorf("%w %q: year %q must have four digits", ErrBadDate, s, ys)
	}
	t := time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
	if t.Day() != day {
		return Date{}, false, fmt.Errorf("%w %q: %s has no day %d", ErrBadDate, s, month, day)
	}
	return Date{Year: year, Month: month, Day: day}, false, nil
}
