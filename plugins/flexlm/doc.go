// Package flexlm is the licensegw protocol plugin that speaks a FlexLM-style
// protocol: an "lmgrd" listener (default :27000) that tells clients where
// the vendor daemon listens, and a "vendor" listener (default :27100) that
// serves checkout, heartbeat, checkin, queueing, status, lmremove, lmreread
// and lmdown. Seats are counted by the gateway through sdk.Seats; the
// plugin only translates.
//
// The wire format is this project's own framed binary protocol (package
// wire, documented in docs/flexlm.md), not FlexLM's: FlexLM-linked
// applications cannot use it directly; applications use package client, and
// monitoring keeps working through lmutil (package lmutil), which prints
// lmstat's exact layout.
//
// Licences belong to the vendor connection that checked them out, as in
// FlexLM: when it closes the plugin checks them in and cancels its queue
// waits, and every checkout but a borrow is made with sdk.CheckoutRequest's
// BindConn so that the gateway releases them too when the plugin dies
// without that cleanup. Package client reconnects and checks out again.
//
// Sub-packages: licfile and optfile parse FlexLM licence and options files,
// flexconv imports them into the gateway's model, lmstat formats lmstat
// output, wire is the codec, client the Go client library and lmutil the
// command-line tools.
package flexlm
