package config

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/licensegw/licensegw/sdk"
)

// allowList decodes a plugin block's allow or status_allow: a list of
// addresses and CIDR networks, each checked by sdk.ParseAllowEntry (the
// plugin's SDK parses them again with the same rules) and reported at
// its own position. It returns nil when the attribute is absent or wrong.
func (d *decoder) allowList(attrs hcl.Attributes, name string) []string {
	var list []string
	if !d.strings(attrs, name, &list) {
		return nil
	}
	expr := attrs[name].Expr
	if len(list) == 0 {
		refused := "every client"
		if name == "status_allow" {
			refused = "every status query"
		}
		d.errorf(expr.Range(), "Empty "+name+" list",
			"An empty %s list would refuse %s. Leave %s out to admit every address, or list the networks to admit, such as [\"10.0.0.0/8\"].", name, refused, name)
		return nil
	}
	ok := true
	for i, s := range list {
		if _, err := sdk.ParseAllowEntry(s); err != nil {
			d.errorf(elemRange(expr, i), "Invalid "+name+" entry",
				"The %s entry %s. Entries are IP addresses (192.0.2.7, ::1) or networks in CIDR notation (10.0.0.0/8, fd00::/8).", name, err)
			ok = false
		}
	}
	if !ok {
		return nil
	}
	return list
}
