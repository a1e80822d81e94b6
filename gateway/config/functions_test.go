package config

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func TestEnv(t *testing.T) {
	t.Setenv("LICENSEGW_TEST_SET", "value")
	t.Setenv("LICENSEGW_TEST_EMPTY", "")
	tests := []struct {
		expr, want string
	}{
		{`env("LICENSEGW_TEST_SET")`, "value"},
		{`env("LICENSEGW_TEST_SET", "default")`, "value"},
		{`env("LICENSEGW_TEST_EMPTY")`, ""},
		{`env("LICENSEGW_TEST_EMPTY", "default")`, "default"},
		{`env("LICENSEGW_TEST_NEVER_SET_9F2C")`, ""},
		{`env("LICENSEGW_TEST_NEVER_SET_9F2C", "default")`, "default"},
		{`"${env("LICENSEGW_TEST_SET")}-x"`, "value-x"},
	}
	for _, tt := range tests {
		expr, diags := hclsyntax.ParseExpression([]byte(tt.expr), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		v, diags := expr.Value(evalContext())
		if diags.HasErrors() {
			t.Errorf("%s: %s", tt.expr, diags.Error())
			continue
		}
		if got := v.AsString(); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.expr, got, tt.want)
		}
	}
}
