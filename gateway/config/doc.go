// Package config loads, decodes and validates the gateway's HCL
// configuration file.
//
// Load (or Parse) reads the whole file, applies the defaults, resolves
// relative paths against the file's directory and checks everything it can
// without starting anything: types, ranges, dates and durations, policies
// against the features and groups they name, duplicates, plugin
// executables. Every problem is an hcl.Diagnostic whose Subject is the
// attribute or block at fault, and all of them are reported at once, in
// source order; WriteDiagnostics prints them with the source lines.
//
// A plugin's own config { } block is not decoded here: the plugin declares
// its schema (sdk.Schema) when it starts, and the plugin host then calls
// DecodePluginConfig, so that errors in that block point at the file too.
//
// The schema (README.md in this directory is the full reference):
//
//	gateway {
//	  name      = "gw-01"             # default: the host name
//	  data_dir  = "./data"            # default "./data"
//	  log_level = "info"              # trace|debug|info|warn|error
//	}
//	admin {
//	  enabled = true                  # default true
//	  listen  = "127.0.0.1:7648"      # default; "" disables
//	}
//	nats {
//	  embedded    = true              # default true; false requires url
//	  listen      = "127.0.0.1:4222"  # the embedded server's client address; "" none
//	  url         = "nats://host:4222" # an existing NATS server instead (embedded = false)
//	  credentials = "/path/user.creds"
//	  prefix      = "licensegw"
//	  stream      = "LICENSEGW_EVENTS"
//	  replicas    = 1                 # 1 to 5; 1 when embedded
//	}
//	signing {
//	  enabled  = true                 # default true
//	  key_file = "..."                # default <data_dir>/signing.key
//	}
//	group "designers" { users = ["alice", "bob"] }
//	host_group "lab"  { hosts = ["ws-01", "ws-02"] }
//
//	feature "cad_pro" {
//	  vendor      = "acme"            # default "local"
//	  version     = "2024.1"          # default "1.0"
//	  seats       = 10                # required, >= 0
//	  start       = "2026-01-01"      # date or RFC 3339 time; default: always
//	  expiry      = "2027-12-31"      # through the end of that day UTC; or RFC 3339, or "permanent" (default)
//	  lease_ttl   = "120s"            # duration or seconds; default 120s; at least 5s
//	  description = "CAD, professional edition"
//	  queue  { max_length = 20  max_wait = "30m" }  # present: queueing on
//	  borrow { max = "72h" }                        # present: borrowing on
//	  reserve { seats = 2  group = "designers" }    # one of user, host, display, group, host_group, internet, project
//	  max     { seats = 1  user = "dave" }
//	  include { users = [...]  hosts = [...]  displays = [...]  groups = [...]  host_groups = [...]  internet = [...]  projects = [...] }
//	  exclude { ... }
//	}
//
//	plugin "concurrentlm" {
//	  path    = "./bin/licensegw-concurrentlm"   # required
//	  sha256  = "hex"
//	  args    = []
//	  listen  = { tcp = ":1648", udp = ":1648" }
//	  enabled = true
//	  gomaxprocs = 2                             # >= 1; default: GOMAXPROCS from the environment, else a quarter of the CPUs (at least 1)
//	  config { ... }                             # decoded with the plugin's schema
//	}
//
// Expressions may call env("NAME") and env("NAME", "default").
package config
