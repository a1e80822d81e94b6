package flexconv

// What the external tests (package flexconv_test, which may import the
// gateway's configuration package) share with the internal ones.
var (
	LoadPair = load
	Update   = update
	Accept   = accept
)

// GoldenCase is a licence file, an options file and the golden HCL named
// after Name.
type GoldenCase struct{ Name, Lic, Opt string }

// GoldenCases are the cases with golden HCL.
func GoldenCases() []GoldenCase {
	out := make([]GoldenCase, 0, len(cases))
	for _, c := range cases {
		out = append(out, GoldenCase{c.name, c.lic, c.opt})
	}
	return out
}
