// Package admin is the gateway's administration API: HTTP with JSON bodies on
// a loopback address by default, and the client the CLI uses.
//
// Endpoints (all answers are JSON; errors are {"error": "..."} with a 4xx or
// 5xx status):
//
//	GET    /v1/status          gateway, features with leases and queues, plugins
//	GET    /v1/features        features (pools) with counts
//	GET    /v1/leases          a page of leases (?feature=F&vendor=V to filter,
//	                           &limit=N&cursor=C; X-Next-Cursor names the next)
//	GET    /v1/queues          every waiting ticket
//	DELETE /v1/leases/{id}     remove a lease (204; 404 when unknown)
//	POST   /v1/reload          reread the configuration file (keeps leases)
//	GET    /healthz            the process is up
//	GET    /readyz             the gateway serves requests (journal reachable)
//	GET    /metrics            Prometheus metrics (when the backend is a MetricsBackend)
//	GET    /v1/reports/{kind}  usage, denials or peaks over the journal (a ReportBackend)
//	GET    /ui/                the web dashboard (a UIBackend): live by server-sent events;
//	                           POST /ui/login trades a token for a session cookie
//	                           good for /ui/ only (session.go)
//	POST   /v1/simulate        replay the journal's demand under another configuration (a SimulateBackend)
//
// Requests with a body larger than MaxBody are refused with 413; unknown
// paths get 404 and wrong methods 405, both in JSON.
package admin
