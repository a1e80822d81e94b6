package main

import (
	"context"
	"testing"
	"time"

	"github.com/licensegw/licensegw/sdk"
)

func TestImport(t *testing.T) {
	res, err := importer{}.Import(context.Background(), sdk.ImportRequest{
		Format: Format, Config: sdk.NewConfig(map[string]any{"file": "seats.list"}), Dir: "testdata",
	})
	if err != nil {
		t.Fatal(err)
	}
	fs := res.Policy.Features
	if len(fs) != 2 || fs[0].Name != "modeler" || fs[0].Seats != 5 || !fs[0].Expiry.Equal(time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC)) ||
		fs[1].Name != "viewer" || !fs[1].Expiry.IsZero() {
		t.Errorf("features %+v", fs)
	}
	if len(res.Diagnostics) != 1 || res.Diagnostics[0].Pos.Line != 4 || res.Diagnostics[0].Severity != sdk.SeverityWarning {
		t.Errorf("diagnostics %+v, want a warning at line 4", res.Diagnostics)
	}
	if len(res.Sources) != 1 || res.Sources[0].Name != "seats.list" {
		t.Errorf("sources %+v", res.Sources)
	}
}

func TestImportUnreadable(t *testing.T) {
	res, _ := importer{}.Import(context.Background(), sdk.ImportRequest{
		Config: sdk.NewConfig(map[string]any{"seat_list": "none.list"}), Dir: t.TempDir(),
	})
	if !res.HasErrors() || res.Diagnostics[0].Attribute != "seat_list" {
		t.Errorf("diagnostics %+v, want an error at seat_list", res.Diagnostics)
	}
}

func TestValidateConfig(t *testing.T) {
	if d := (importer{}).ValidateConfig(context.Background(), sdk.ValidateRequest{Config: sdk.NewConfig(map[string]any{"vendor": "no vendor!"})}); len(d) != 1 || d[0].Attribute != "vendor" {
		t.Errorf("diagnostics %+v, want one at vendor", d)
	}
}
