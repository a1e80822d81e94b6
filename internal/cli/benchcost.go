package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// costMeter reads what the gateway and plugin processes have spent so far
// from the admin API's /metrics, and what this process has spent from
// getrusage: the difference over a run, divided by its requests, is the
// run's cost per request in each process. CPU time is the processes' own,
// so it stays meaningful on a machine busy with other work, where
// throughput does not.
type costMeter struct {
	metrics func(context.Context) ([]byte, error)
}

// costSample is the cumulative spending of every process at one instant.
type costSample struct {
	self  time.Duration     // this process (the load generator)
	procs map[string]*spent // "gateway", "plugin <name>"
}

type spent struct{ cpu, mallocs float64 }

func (m *costMeter) sample(ctx context.Context) (costSample, error) {
	text, err := m.metrics(ctx)
	if err != nil {
		return costSample{}, fmt.Errorf("reading the processes' costs (--no-cost skips it): %w", err)
	}
	s := parseCosts(text)
	s.self = selfCPU()
	return s, nil
}

// parseCosts picks the CPU and allocation counters out of a Prometheus
// text exposition.
func parseCosts(text []byte) costSample {
	s := costSample{procs: map[string]*spent{}}
	proc := func(name string) *spent {
		p := s.procs[name]
		if p == nil {
			p = &spent{}
			s.procs[name] = p
		}
		return p
	}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, labels, value, ok := splitSample(line)
		if !ok {
			continue
		}
		switch name {
		case "process_cpu_seconds_total":
			proc("gateway").cpu = value
		case "go_memstats_mallocs_total":
			proc("gateway").mallocs = value
		case "licensegw_plugin_process_cpu_seconds_total":
			proc("plugin " + labelValue(labels, "plugin")).cpu = value
		case "licensegw_plugin_go_mallocs_total":
			proc("plugin " + labelValue(labels, "plugin")).mallocs = value
		}
	}
	return s
}

// splitSample splits `name{labels} value [timestamp]`.
func splitSample(line string) (name, labels string, value float64, ok bool) {
	rest := line
	if i := strings.IndexByte(line, '{'); i >= 0 {
		j := strings.LastIndexByte(line, '}')
		if j < i {
			return "", "", 0, false
		}
		name, labels, rest = line[:i], line[i+1:j], line[j+1:]
	} else {
		i := strings.IndexByte(line, ' ')
		if i < 0 {
			return "", "", 0, false
		}
		name, rest = line[:i], line[i:]
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return "", "", 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return name, labels, v, err == nil
}

// labelValue finds key="value" in a label list (values here hold no quotes).
func labelValue(labels, key string) string {
	i := strings.Index(labels, key+`="`)
	if i < 0 {
		return "?"
	}
	v := labels[i+len(key)+2:]
	if j := strings.IndexByte(v, '"'); j >= 0 {
		v = v[:j]
	}
	return v
}

// sub is the spending between b and s.
func (s costSample) sub(b costSample) costSample {
	d := costSample{self: s.self - b.self, procs: map[string]*spent{}}
	for name, p := range s.procs {
		q := b.procs[name]
		if q == nil {
			q = &spent{}
		}
		d.procs[name] = &spent{cpu: p.cpu - q.cpu, mallocs: p.mallocs - q.mallocs}
	}
	return d
}

// add is the spending of s and d together.
func (s costSample) add(d costSample) costSample {
	out := costSample{self: s.self + d.self, procs: map[string]*spent{}}
	for _, x := range []costSample{s, d} {
		for name, p := range x.procs {
			q := out.procs[name]
			if q == nil {
				q = &spent{}
				out.procs[name] = q
			}
			q.cpu += p.cpu
			q.mallocs += p.mallocs
		}
	}
	return out
}

// only is d counting the gateway and the plugin instance named plugin (the
// other plugins idle meanwhile), or all of d when no process has that name.
func (d costSample) only(plugin string) costSample {
	if _, ok := d.procs["plugin "+plugin]; !ok {
		return d
	}
	out := costSample{self: d.self, procs: map[string]*spent{}}
	for name, p := range d.procs {
		if name == "gateway" || name == "plugin "+plugin {
			out.procs[name] = p
		}
	}
	return out
}

// perRequest formats the spending d divided by ops requests.
func (d costSample) perRequest(ops int64) string {
	names := make([]string, 0, len(d.procs))
	for n := range d.procs {
		names = append(names, n)
	}
	slices.Sort(names) // "gateway" before "plugin ..."
	var cpu, allocs strings.Builder
	total := perRequest(d.self.Seconds()*1e6, ops)
	for _, n := range names {
		p := d.procs[n]
		us := perRequest(p.cpu*1e6, ops)
		total += us
		fmt.Fprintf(&cpu, "%s %.1f, ", n, us)
		fmt.Fprintf(&allocs, "%s %.1f, ", n, perRequest(p.mallocs, ops))
	}
	fmt.Fprintf(&cpu, "load generator %.1f; total %.1f", perRequest(d.self.Seconds()*1e6, ops), total)
	return fmt.Sprintf("        cpu µs/request: %s\n        allocs/request: %s\n", cpu.String(), strings.TrimSuffix(allocs.String(), ", "))
}
