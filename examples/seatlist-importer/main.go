// Command seatlist-importer is a third-party importer written only against
// the sdk: a plugin that speaks no wire protocol and turns a vendor's own
// licence format, a "seat list", into features for the gateway. A seat
// list has one pool per line:
//
//	# name      version  seats  expiry
//	modeler     2.1      5      2027-06-30
//	viewer      1.0      40     permanent
//
// Its config block names the file (seat_list); the gateway asks the plugin
// at start, `licensegw validate` and every reload, and `licensegw import
// seat_list -plugin ./seatlist-importer FILE` prints the features as HCL.
package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/policy"
)

func main() { sdk.Serve(importer{}) }

// Format is the import format's name, for import "seat_list" { file = ... }.
const Format = "seat_list"

type importer struct{}

var (
	_ sdk.Importer        = importer{}
	_ sdk.ConfigValidator = importer{}
)

func (importer) Info() sdk.Info {
	return sdk.Info{
		Name:        "seatlist",
		Version:     "0.1.0",
		APIVersion:  sdk.APIVersion,
		Description: "imports seat lists (name version seats expiry per line); serves no protocol",
		Config: sdk.Schema{
			{Name: "seat_list", Type: sdk.String, Description: "the seat list file"},
			{Name: "vendor", Type: sdk.String, Description: "the vendor of the imported features (default acme)"},
		},
		Imports: []sdk.ImportFormat{{
			Name:        Format,
			Description: "a seat list: name version seats expiry per line",
			Config:      sdk.Schema{{Name: "file", Type: sdk.String, Required: true}},
			Files:       []string{"file"},
		}},
	}
}

// Serve has no protocol to speak: it waits for the gateway to stop it.
func (importer) Serve(ctx context.Context, _ *sdk.Env) error {
	<-ctx.Done()
	return nil
}

// ValidateConfig checks what the schema cannot: the vendor is a name.
func (importer) ValidateConfig(_ context.Context, req sdk.ValidateRequest) []sdk.Diagnostic {
	if v := req.Config.String("vendor", "acme"); sdk.CheckIdent(sdk.IdentVendor, v) != nil || v == "" {
		return []sdk.Diagnostic{sdk.AttrError("vendor", "Invalid vendor", fmt.Sprintf("%q is not a vendor name.", v))}
	}
	return nil
}

// Import reads the seat list of the plugin's block (seat_list) or of an
// import "seat_list" block (file).
func (importer) Import(_ context.Context, req sdk.ImportRequest) (*sdk.ImportResult, error) {
	attr := "seat_list"
	if req.Format == Format {
		attr = "file"
	}
	res := &sdk.ImportResult{}
	name := req.Config.String(attr, "")
	if name == "" {
		return res, nil
	}
	src, err := os.ReadFile(req.Path(name))
	if err != nil {
		res.Diagnostics = append(res.Diagnostics, sdk.AttrError(attr, "Cannot read seat list", err.Error()))
		return res, nil
	}
	res.Sources = []sdk.Source{{Name: name, Text: src}}
	vendor := req.Config.String("vendor", "acme")
	sc := bufio.NewScanner(bytes.NewReader(src))
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		pos := policy.Pos{File: name, Line: line, Col: 1}
		f, err := feature(vendor, fields)
		if err != nil {
			// A bad line is left out and said; the rest is imported.
			res.Diagnostics = append(res.Diagnostics, sdk.Diagnostic{
				Severity: sdk.SeverityWarning, Summary: "Line not imported", Detail: err.Error(), Pos: pos,
			})
			continue
		}
		res.Policy.Features = append(res.Policy.Features, f)
	}
	return res, nil
}

// feature is one line: name version seats expiry.
func feature(vendor string, fields []string) (policy.Feature, error) {
	if len(fields) != 4 {
		return policy.Feature{}, fmt.Errorf("want name, version, seats and expiry, got %d fields", len(fields))
	}
	seats, err := strconv.Atoi(fields[2])
	if err != nil || seats < 1 {
		return policy.Feature{}, fmt.Errorf("seats %q is not a positive number", fields[2])
	}
	f := policy.Feature{Vendor: vendor, Name: fields[0], Version: fields[1], Seats: seats}
	if fields[3] != "permanent" {
		day, err := time.Parse("2006-01-02", fields[3])
		if err != nil {
			return policy.Feature{}, fmt.Errorf("expiry %q is not YYYY-MM-DD or permanent", fields[3])
		}
		f.Expiry = day.AddDate(0, 0, 1) // usable through that day, as the gateway reads expiry
	}
	return f, nil
}
