package optfile

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/licensegw/licensegw/internal/golden"
)

var (
	update = flag.Bool("update", false, "show how the golden files would change and fail; with -accept, rewrite them")
	accept = flag.Bool("accept", false, "with -update, rewrite the golden files that differ")
)

func dump(f *File, err error) string {
	var b strings.Builder
	for _, g := range f.Groups {
		fmt.Fprintf(&b, "GROUP %s %q lines=%v\n", g.Name, g.Members, g.Lines)
	}
	for _, g := range f.HostGroups {
		fmt.Fprintf(&b, "HOST_GROUP %s %q lines=%v\n", g.Name, g.Members, g.Lines)
	}
	for _, r := range f.Rules {
		fmt.Fprintf(&b, "%s %s count=%d feature=%q version=%q quals=%v type=%s who=%q what=%q\n",
			r.Pos, r.Keyword, r.Count, r.Feature.Name, r.Feature.Version, r.Feature.Qualifiers, r.Type, r.Who, r.What)
	}
	for _, o := range f.Other {
		fmt.Fprintf(&b, "OTHER %s %s %q\n", o.Pos, o.Keyword, o.Args)
	}
	for _, d := range f.Diagnostics {
		fmt.Fprintf(&b, "DIAG %s\n", d)
	}
	if err != nil {
		fmt.Fprintf(&b, "ERROR %s\n", strings.ReplaceAll(err.Error(), "\n", "\nERROR "))
	}
	return b.String()
}

func TestCorpusGolden(t *testing.T) {
	files, _ := filepath.Glob("../testdata/corpus/*.opt")
	files = append(files, "../testdata/sample/acme.opt")
	if len(files) < 3 {
		t.Fatalf("corpus too small: %v", files)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, perr := Parse(name, src)
			got := dump(f, perr)
			golden.Check(t, filepath.Join("testdata", "golden", strings.TrimSuffix(name, ".opt")+".txt"), []byte(got), golden.ModeOf(*update, *accept))
			if bad := strings.Contains(name, "bad"); bad != (perr != nil) {
				t.Errorf("error = %v; want an error only for *bad* files", perr)
			}
		})
	}
}

func TestRules(t *testing.T) {
	tests := []struct {
		line string
		want Rule
	}{
		{"RESERVE 2 cad_pro GROUP designers", Rule{Keyword: Reserve, Count: 2, Feature: FeatureRef{Name: "cad_pro"}, Type: GroupType, Who: "designers"}},
		{"MAX 1 cad_pro USER dave", Rule{Keyword: Max, Count: 1, Feature: FeatureRef{Name: "cad_pro"}, Type: User, Who: "dave"}},
		{"INCLUDE solver HOST_GROUP lab", Rule{Keyword: Include, Feature: FeatureRef{Name: "solver"}, Type: HostGroup, Who: "lab"}},
		{"EXCLUDE cad_pro user mallory", Rule{Keyword: Exclude, Feature: FeatureRef{Name: "cad_pro"}, Type: User, Who: "mallory"}},
		{"EXCLUDEALL HOST kiosk-01", Rule{Keyword: ExcludeAll, Type: Host, Who: "kiosk-01"}},
		{"INCLUDEALL INTERNET 10.1.*.*", Rule{Keyword: IncludeAll, Type: Internet, Who: "10.1.*.*"}},
		{"TIMEOUT cad_pro 3600", Rule{Keyword: Timeout, Count: 3600, Feature: FeatureRef{Name: "cad_pro"}}},
		{"TIMEOUTALL 7200", Rule{Keyword: TimeoutAll, Count: 7200}},
		{"LINGER cad_pro 60", Rule{Keyword: Linger, Count: 60, Feature: FeatureRef{Name: "cad_pro"}}},
		{"MAX_BORROW_HOURS cad_pro 72", Rule{Keyword: MaxBorrowHours, Count: 72, Feature: FeatureRef{Name: "cad_pro"}}},
		{"BORROW_LOWWATER cad_pro 3", Rule{Keyword: BorrowLowwater, Count: 3, Feature: FeatureRef{Name: "cad_pro"}}},
		{"NOLOG queued", Rule{Keyword: NoLog, What: "QUEUED"}},
		{`RESERVE 1 "f:VERSION=2.0" PROJECT apollo`, Rule{Keyword: Reserve, Count: 1, Feature: FeatureRef{Name: "f", Version: "2.0", Qualifiers: map[string]string{"VERSION": "2.0"}}, Type: Project, Who: "apollo"}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			f, err := Parse("t.opt", []byte(tt.line+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Rules) != 1 {
				t.Fatalf("rules = %v", f.Rules)
			}
			got := f.Rules[0]
			tt.want.Pos = Pos{File: "t.opt", Line: 1, Col: 1}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestGroupsAccumulate(t *testing.T) {
	f, err := Parse("t.opt", []byte("GROUP g a b\nHOST_GROUP g h1\nGROUP g b c \\\n  d\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Groups) != 1 || strings.Join(f.Groups[0].Members, ",") != "a,b,c,d" || len(f.Groups[0].Lines) != 2 {
		t.Errorf("groups = %+v, want one group a,b,c,d from 2 lines", f.Groups)
	}
	if len(f.HostGroups) != 1 || f.HostGroups[0].Members[0] != "h1" {
		t.Errorf("host groups = %+v", f.HostGroups)
	}
}

func TestErrorPositions(t *testing.T) {
	_, err := Parse("t.opt", []byte("MAX 1 f USER a\nRESERVE 1 f WIZARD x\n"))
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Pos.String() != "t.opt:2:13" {
		t.Fatalf("err = %v, want one error at t.opt:2:13", err)
	}
}
