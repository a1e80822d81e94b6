package sdk

import (
	"encoding/json"
	"fmt"

	"github.com/licensegw/licensegw/sdk/policy"
	pb "github.com/licensegw/licensegw/sdk/proto"
)

func diagnosticsToPB(ds []Diagnostic) []*pb.Diagnostic {
	out := make([]*pb.Diagnostic, 0, len(ds))
	for _, d := range ds {
		out = append(out, &pb.Diagnostic{
			Severity: string(d.Severity), Summary: d.Summary, Detail: d.Detail,
			File: d.Pos.File, Line: int32(d.Pos.Line), Column: int32(d.Pos.Col),
			Attribute: d.Attribute,
			Vendor:    d.Pool.Vendor, Feature: d.Pool.Name, Version: d.Pool.Version,
		})
	}
	return out
}

func diagnosticsFromPB(ds []*pb.Diagnostic) []Diagnostic {
	out := make([]Diagnostic, 0, len(ds))
	for _, d := range ds {
		sev := Severity(d.GetSeverity())
		switch sev {
		case SeverityInfo, SeverityWarning, SeverityError:
		default:
			sev = SeverityError // an unknown grade is not waved through
		}
		out = append(out, Diagnostic{
			Severity: sev, Summary: d.GetSummary(), Detail: d.GetDetail(),
			Pos:       policy.Pos{File: d.GetFile(), Line: int(d.GetLine()), Col: int(d.GetColumn())},
			Attribute: d.GetAttribute(),
			Pool:      policy.PoolRef{Vendor: d.GetVendor(), Name: d.GetFeature(), Version: d.GetVersion()},
		})
	}
	return out
}

func importResultToPB(r *ImportResult) (*pb.ImportResponse, error) {
	set, err := json.Marshal(r.Policy)
	if err != nil {
		return nil, fmt.Errorf("encode the imported policy: %w", err)
	}
	resp := &pb.ImportResponse{PolicyJson: set, Diagnostics: diagnosticsToPB(r.Diagnostics)}
	for _, s := range r.Sources {
		resp.Sources = append(resp.Sources, &pb.Source{Name: s.Name, Text: s.Text})
	}
	return resp, nil
}

func importResultFromPB(resp *pb.ImportResponse) (*ImportResult, error) {
	r := &ImportResult{Diagnostics: diagnosticsFromPB(resp.GetDiagnostics())}
	if len(resp.GetPolicyJson()) > 0 {
		if err := json.Unmarshal(resp.GetPolicyJson(), &r.Policy); err != nil {
			return nil, fmt.Errorf("decode the imported policy: %w", err)
		}
	}
	for _, s := range resp.GetSources() {
		r.Sources = append(r.Sources, Source{Name: s.GetName(), Text: s.GetText()})
	}
	return r, nil
}
