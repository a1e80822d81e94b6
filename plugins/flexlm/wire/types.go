package wire

import "fmt"

// Type is a message type. Requests are below 0x80, answers from 0x80.
type Type uint8

// Requests.
const (
	Hello      Type = 0x01 // either listener: who is there
	ServerInfo Type = 0x02 // lmgrd: host, port, licence files, vendors and their ports
	VendorPort Type = 0x03 // lmgrd: the port of one vendor daemon
	Checkout   Type = 0x10 // vendor: ask for seats
	Heartbeat  Type = 0x11 // vendor: keep a license
	Checkin    Type = 0x12 // vendor: give a license back
	Cancel     Type = 0x13 // vendor: stop waiting in a queue
	Status     Type = 0x14 // vendor: features, licenses, reservations, queues
	Remove     Type = 0x15 // vendor: lmremove
	Reread     Type = 0x16 // vendor or lmgrd: lmreread
	Shutdown   Type = 0x17 // vendor or lmgrd: lmdown
)

// Answers.
const (
	HelloOK           Type = 0x81
	ServerInfoOK      Type = 0x82
	VendorPortOK      Type = 0x83
	OK                Type = 0x84 // a request without data succeeded
	Granted           Type = 0x90
	Queued            Type = 0x91 // also sent unsolicited (same id) when the position changes
	Denied            Type = 0x92
	Gone              Type = 0x93 // the license is gone: REASON says why
	HeartbeatOK       Type = 0x94
	StatusFeature     Type = 0xA0
	StatusLease       Type = 0xA1
	StatusTicket      Type = 0xA2
	StatusReservation Type = 0xA3
	StatusEnd         Type = 0xA4
	Error             Type = 0xFF
)

var typeNames = map[Type]string{
	Hello: "HELLO", ServerInfo: "SERVER_INFO", VendorPort: "VENDOR_PORT", Checkout: "CHECKOUT",
	Heartbeat: "HEARTBEAT", Checkin: "CHECKIN", Cancel: "CANCEL", Status: "STATUS", Remove: "REMOVE",
	Reread: "REREAD", Shutdown: "SHUTDOWN", HelloOK: "HELLO_OK", ServerInfoOK: "SERVER_INFO_OK",
	VendorPortOK: "VENDOR_PORT_OK", OK: "OK", Granted: "GRANTED", Queued: "QUEUED", Denied: "DENIED",
	Gone: "GONE", HeartbeatOK: "HEARTBEAT_OK", StatusFeature: "STATUS_FEATURE", StatusLease: "STATUS_LEASE",
	StatusTicket: "STATUS_TICKET", StatusReservation: "STATUS_RESERVATION", StatusEnd: "STATUS_END", Error: "ERROR",
}

func (t Type) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("TYPE_0x%02X", uint8(t))
}

// Tag names a field.
type Tag uint8

// The field tags. (s) string, (i) integer.
const (
	TFeature     Tag = 1  // (s) feature name
	TVendor      Tag = 2  // (s) vendor name
	TVersion     Tag = 3  // (s) version: minimum asked, or the pool's
	TCount       Tag = 4  // (i) seats
	TWaitMs      Tag = 5  // (i) how long a checkout may queue, ms (0: do not queue)
	TBorrowS     Tag = 6  // (i) borrow for this many seconds
	TUser        Tag = 7  // (s)
	THost        Tag = 8  // (s)
	TDisplay     Tag = 9  // (s)
	TProject     Tag = 10 // (s)
	THandle      Tag = 11 // (i) a license handle (as lmstat shows it)
	TLease       Tag = 12 // (s) the gateway's lease id
	TTTLMs       Tag = 13 // (i) lease time to live, ms
	TExpires     Tag = 14 // (i) unix seconds; 0: none (permanent)
	TTicket      Tag = 15 // (i) a queue ticket handle
	TPosition    Tag = 16 // (i) queue position, 1 is the head
	TReason      Tag = 17 // (s) denial or gone reason (concurrent-lm reasons)
	TMessage     Tag = 18 // (s) human-readable text
	TInUse       Tag = 19 // (i)
	TSeats       Tag = 20 // (i)
	TPort        Tag = 21 // (i) a TCP port
	TLicenseFile Tag = 22 // (s) repeated
	TUp          Tag = 23 // (i) 1: up
	TStart       Tag = 24 // (i) unix seconds
	TQueued      Tag = 25 // (i) seats waited for
	TKind        Tag = 26 // (s) reservation kind: user, host, display, group, host_group, internet, project
	TName        Tag = 27 // (s) reservation subject
	TCode        Tag = 28 // (i) error code (FlexLM-style, negative)
	TServerHost  Tag = 29 // (s)
	TServerVer   Tag = 30 // (s) server (and vendor daemon) version
	TDescription Tag = 31 // (s)
	TReserved    Tag = 32 // (i) seats of a license taken from a reservation
	TBorrowed    Tag = 33 // (i) 1: borrowed
	TProtocol    Tag = 34 // (s) the protocol a license came through
	TProgram     Tag = 35 // (s) client program name (HELLO)
	TRole        Tag = 36 // (s) "lmgrd" or "vendor" (HELLO_OK)
	TStartDate   Tag = 37 // (i) unix seconds: feature usable from
	TZoneName    Tag = 38 // (s) the server's time zone name, e.g. "CET"
	TZoneOffset  Tag = 39 // (i) the server's UTC offset now, seconds east
	TRequestKey  Tag = 40 // (s) CHECKOUT: the client's key of this checkout, the same when it is asked again
)

var tagNames = [...]string{
	TFeature: "FEATURE", TVendor: "VENDOR", TVersion: "VERSION", TCount: "COUNT", TWaitMs: "WAIT_MS",
	TBorrowS: "BORROW_S", TUser: "USER", THost: "HOST", TDisplay: "DISPLAY", TProject: "PROJECT",
	THandle: "HANDLE", TLease: "LEASE", TTTLMs: "TTL_MS", TExpires: "EXPIRES", TTicket: "TICKET",
	TPosition: "POSITION", TReason: "REASON", TMessage: "MESSAGE", TInUse: "IN_USE", TSeats: "SEATS",
	TPort: "PORT", TLicenseFile: "LICENSE_FILE", TUp: "UP", TStart: "START", TQueued: "QUEUED",
	TKind: "KIND", TName: "NAME", TCode: "CODE", TServerHost: "SERVER_HOST", TServerVer: "SERVER_VER",
	TDescription: "DESCRIPTION", TReserved: "RESERVED", TBorrowed: "BORROWED", TProtocol: "PROTOCOL",
	TProgram: "PROGRAM", TRole: "ROLE", TStartDate: "START_DATE", TZoneName: "ZONE_NAME", TZoneOffset: "ZONE_OFFSET",
	TRequestKey: "REQUEST_KEY",
}

// String is the tag's name in docs/flexlm.md (USER, COUNT, ...), or tagN
// for a tag this version does not know.
func (t Tag) String() string {
	if int(t) < len(tagNames) && tagNames[t] != "" {
		return tagNames[t]
	}
	return fmt.Sprintf("tag%d", uint8(t))
}

// Error codes carried in ERROR frames (TCode), in FlexLM's spirit.
const (
	CodeBadRequest  = -4  // malformed or unknown request
	CodeNoFeature   = -5  // no such feature
	CodeNotAllowed  = -6  // refused by configuration (lmdown, lmremove, lmreread; lmstat from outside status_allow)
	CodeVendorDown  = -97 // the vendor daemon is down (after lmdown)
	CodeUnavailable = -96 // the gateway cannot answer now
	CodeNoHandle    = -7  // no such license handle
	CodeWrongRole   = -8  // request sent to the wrong listener
	CodeBusy        = -9  // connection refused: too many connections (total or from this IP)
	CodeBadConfig   = -10 // lmreread: the gateway refused its configuration (the message has the diagnostics)
)
