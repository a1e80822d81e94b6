package relay

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/licensegw/licensegw/plugins/relay/keygenfile"
	"github.com/licensegw/licensegw/sdk"
)

// The file names the licence directory holds.
const (
	LicenseExt = ".lic"
	KeyExt     = ".key"
)

// licence is one verified licence file a pool hands out.
type licence struct {
	id      string // the Keygen licence id
	file    string // path relative to licenses_dir, for messages
	key     string // the licence key that decrypts it
	fileB64 string // the file's text in base64, as claims return it
	info    *keygenfile.License
	slot    int // its place in its pool, in file-name order
}

// Problem is a licence file that is not served, and why.
type Problem struct {
	File string // relative to licenses_dir
	Err  error
}

func (p Problem) Error() string { return p.File + ": " + p.Err.Error() }

// ErrDuplicate: two files carry the same licence id; only the first (in
// file-name order) is served, as keygen-relay refuses to add a licence twice.
var ErrDuplicate = errors.New("duplicate licence id")

// loadLicences reads dir: the .lic files directly in it belong to
// defaultPool, those in a sub-directory to the pool the sub-directory is
// named after. Each needs its key in the .key file of the same name. A file
// that cannot be served is a Problem, never silently dropped; only an
// unreadable directory is an error.
func loadLicences(dir, defaultPool string, pub ed25519.PublicKey, now time.Time) (map[string][]*licence, []Problem, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("licenses_dir: %w", err)
	}
	out := map[string][]*licence{}
	var problems []Problem
	seen := map[string]string{} // licence id -> file
	load := func(pool, sub string, names []os.DirEntry) {
		for _, e := range names {
			if e.IsDir() || !strings.HasSuffix(e.Name(), LicenseExt) {
				continue
			}
			rel := filepath.Join(sub, e.Name())
			l, err := loadLicence(dir, rel, pub, now)
			if err == nil {
				if first, dup := seen[l.id]; dup {
					err = fmt.Errorf("%w %s: also in %s, which is served", ErrDuplicate, l.id, first)
				}
			}
			if err != nil {
				problems = append(problems, Problem{File: rel, Err: err})
				continue
			}
			seen[l.id] = rel
			l.slot = len(out[pool])
			out[pool] = append(out[pool], l)
		}
	}
	load(defaultPool, "", entries)
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if err := checkPoolName(e.Name()); err != nil {
			problems = append(problems, Problem{File: e.Name() + string(filepath.Separator), Err: err})
			continue
		}
		sub, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			problems = append(problems, Problem{File: e.Name(), Err: err})
			continue
		}
		load(e.Name(), e.Name(), sub)
	}
	return out, problems, nil
}

func loadLicence(dir, rel string, pub ed25519.PublicKey, now time.Time) (*licence, error) {
	data, err := readBounded(filepath.Join(dir, rel), keygenfile.MaxFileSize)
	if err != nil {
		return nil, err
	}
	keyFile := strings.TrimSuffix(rel, LicenseExt) + KeyExt
	key, err := readBounded(filepath.Join(dir, keyFile), 4096)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no key: %s is missing", keyFile)
	}
	if err != nil {
		return nil, err
	}
	info, err := keygenfile.Open(data, strings.TrimSpace(string(key)), pub, now)
	if err != nil {
		return nil, err
	}
	if err := sdk.CheckIdent(sdk.IdentDisplay, info.ID); err != nil {
		// The id travels as the checkout's display.
		return nil, fmt.Errorf("licence id %.40q is not usable: it %s", info.ID, reason(err))
	}
	return &licence{
		id: info.ID, file: rel, key: info.Key, info: info,
		fileB64: base64.StdEncoding.EncodeToString(data),
	}, nil
}

// readBounded reads a file of at most max bytes.
func readBounded(path string, max int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%d bytes, more than %d", fi.Size(), max)
	}
	return os.ReadFile(path)
}

// licencePool hands out one pool's licence files by strategy.
type licencePool struct {
	strategy Strategy

	mu    sync.Mutex
	all   []*licence // by slot
	byID  map[string]*licence
	free  *freeSet
	aside map[int]bool // slots set aside: expired, or gone from the directory
	held  int
	rng   *rand.Rand
}

func newLicencePool(ls []*licence, st Strategy) *licencePool {
	p := &licencePool{
		strategy: st, byID: map[string]*licence{}, free: newFreeSet(0), aside: map[int]bool{},
		rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}
	p.merge(ls)
	return p
}

// take hands out a free licence valid at now, or nil when there is none.
// Files that expired since they were loaded are set aside and returned, for
// the caller to report.
func (p *licencePool) take(now time.Time) (l *licence, expired []*licence) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		i := p.free.take(p.strategy, p.rng)
		if i < 0 {
			return nil, expired
		}
		l = p.all[i]
		if l.info.Valid(now) == nil {
			p.held++
			return l, expired
		}
		p.aside[i] = true
		expired = append(expired, l)
	}
}

// takeID hands out the licence id if it is free (a lease recovered after a
// restart keeps its file).
func (p *licencePool) takeID(id string) *licence {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.byID[id]
	if l == nil || !p.free.remove(l.slot) {
		return nil
	}
	p.held++
	return l
}

// put gives l back; a file set aside meanwhile is not handed out again.
func (p *licencePool) put(l *licence) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held--
	if !p.aside[l.slot] {
		p.free.add(l.slot)
	}
}

// merge takes a reading of the pool's files: those not known yet are
// added (after the others, whatever their names), and those no longer read
// are set aside, a free one at once, a held one when it is given back. A
// file set aside stays aside until the plugin restarts.
func (p *licencePool) merge(ls []*licence) (added, removed int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	read := make(map[string]bool, len(ls))
	for _, l := range ls {
		read[l.id] = true
		if p.byID[l.id] != nil {
			continue
		}
		l.slot = len(p.all)
		p.all = append(p.all, l)
		p.byID[l.id] = l
		p.free.grow(len(p.all))
		p.free.add(l.slot)
		added++
	}
	for id, l := range p.byID {
		if !read[id] && !p.aside[l.slot] {
			p.aside[l.slot] = true
			p.free.remove(l.slot)
			removed++
		}
	}
	return added, removed
}

// counts reports the files free, held by nodes, and set aside (expired or
// gone, and not held).
func (p *licencePool) counts() (free, held, aside int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.free.n, p.held, len(p.all) - p.free.n - p.held
}

// size is the number of files the pool has had.
func (p *licencePool) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.all)
}

// dirSignature sums up the names, sizes and modification times of the
// licence directory's entries and those of its sub-directories, so that a
// change is noticed without reading and verifying every file.
func dirSignature(dir string) (string, error) {
	var b strings.Builder
	var walk func(sub string, depth int) error
	walk = func(sub string, depth int) error {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.IsDir() {
				if depth == 0 {
					if err := walk(filepath.Join(sub, e.Name()), 1); err != nil {
						return err
					}
				}
				continue
			}
			fi, err := e.Info()
			if err != nil {
				continue // removed meanwhile: the next scan sees it
			}
			fmt.Fprintf(&b, "%s\x00%d\x00%d\n", filepath.Join(sub, e.Name()), fi.Size(), fi.ModTime().UnixNano())
		}
		return nil
	}
	err := walk("", 0)
	return b.String(), err
}
