package config

import (
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// evalContext is the context every expression of a configuration is
// evaluated in: no variables, and the env function. It is built per call so
// that the package keeps no mutable state.
func evalContext() *hcl.EvalContext {
	return &hcl.EvalContext{
		Functions: map[string]function.Function{
			"env": envFunction(),
		},
	}
}

// envFunction is env("NAME") or env("NAME", "default"): the value of an
// environment variable, or the default ("" without one) when the variable is
// unset or empty. Empty counts as unset, like the shell's ${NAME:-default},
// because an exported-but-empty variable is almost always an accident.
func envFunction() function.Function {
	return function.New(&function.Spec{
		Description: "Returns the value of an environment variable, or a default when it is unset or empty.",
		Params: []function.Parameter{
			{Name: "name", Type: cty.String},
		},
		VarParam: &function.Parameter{Name: "default", Type: cty.String},
		Type: func(args []cty.Value) (cty.Type, error) {
			if len(args) > 2 {
				return cty.NilType, function.NewArgErrorf(2, "env takes a name and at most one default value")
			}
			return cty.String, nil
		},
		RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder { return b.NotNull() },
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if v := os.Getenv(args[0].AsString()); v != "" {
				return cty.StringVal(v), nil
			}
			if len(args) == 2 {
				return args[1], nil
			}
			return cty.StringVal(""), nil
		},
	})
}
