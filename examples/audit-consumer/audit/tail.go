package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// tailChunk is how much of the file's end is read at a time to find its
// last lines.
const tailChunk = 64 << 10

// recoverTail prepares f for appending and returns the ids of its last n
// lines, oldest first, and the last line itself (nil for an empty file). A last line without its newline was cut by a crash before
// its batch was fsync'd, so never acknowledged: it is truncated away and
// will be delivered again.
func recoverTail(f *os.File, n int) ([]string, []byte, error) {
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, nil, err
	}
	var (
		tail []byte // the file's last bytes, read backwards in chunks
		off  = size
	)
	for off > 0 && bytes.Count(tail, []byte{'\n'}) <= n {
		step := min(int64(tailChunk), off)
		off -= step
		chunk := make([]byte, step)
		if _, err := f.ReadAt(chunk, off); err != nil {
			return nil, nil, fmt.Errorf("audit: read %s: %w", f.Name(), err)
		}
		tail = append(chunk, tail...)
	}

	if cut := bytes.LastIndexByte(tail, '\n') + 1; cut < len(tail) {
		partial := int64(len(tail) - cut)
		if err := f.Truncate(size - partial); err != nil {
			return nil, nil, fmt.Errorf("audit: truncate partial line of %s: %w", f.Name(), err)
		}
		tail = tail[:cut]
	}

	lines := bytes.Split(bytes.TrimSuffix(tail, []byte{'\n'}), []byte{'\n'})
	if off > 0 && len(lines) > 0 {
		lines = lines[1:] // the first may be the end of an earlier line
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	ids := make([]string, 0, len(lines))
	for _, line := range lines {
		if id := eventID(line); id != "" {
			ids = append(ids, id)
		}
	}
	var last []byte
	if len(lines) > 0 && len(lines[len(lines)-1]) > 0 {
		last = lines[len(lines)-1]
	}
	return ids, last, nil
}

// eventID is the id field of a JSON event, or "" if there is none.
func eventID(data []byte) string {
	var ev struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(data, &ev) != nil {
		return ""
	}
	return ev.ID
}
