package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	pb "github.com/licensegw/licensegw/sdk/proto"
)

// Conversions between the SDK's types and their protobuf form. Times travel
// as Unix nanoseconds (0 for the zero time) and durations as nanoseconds, so
// a plugin in another language needs no well-known types.

func unixNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func infoToPB(i Info) *pb.InfoResponse {
	r := &pb.InfoResponse{
		Name: i.Name, Version: i.Version, ApiVersion: int32(i.APIVersion), Description: i.Description,
	}
	for _, l := range i.Listeners {
		r.Listeners = append(r.Listeners, &pb.ListenerSpec{Name: l.Name, Network: l.Network, Address: l.Address})
	}
	r.Config = schemaToPB(i.Config)
	versions := i.APIVersions
	if len(versions) == 0 {
		// What the SDK speaks, up to the version the plugin was written for.
		for _, v := range APIVersions() {
			if v <= i.APIVersion {
				versions = append(versions, v)
			}
		}
	}
	for _, v := range versions {
		r.ApiVersions = append(r.ApiVersions, int32(v))
	}
	for _, f := range i.Imports {
		r.Imports = append(r.Imports, &pb.ImportFormat{Name: f.Name, Description: f.Description, Config: schemaToPB(f.Config), Files: f.Files})
	}
	r.Capabilities = i.Capabilities
	return r
}

func schemaToPB(s Schema) []*pb.Attribute {
	var out []*pb.Attribute
	for _, a := range s {
		out = append(out, &pb.Attribute{Name: a.Name, Type: string(a.Type), Required: a.Required, Description: a.Description})
	}
	return out
}

func schemaFromPB(as []*pb.Attribute) Schema {
	var out Schema
	for _, a := range as {
		out = append(out, Attribute{Name: a.GetName(), Type: AttrType(a.GetType()), Required: a.GetRequired(), Description: a.GetDescription()})
	}
	return out
}

func infoFromPB(r *pb.InfoResponse) Info {
	i := Info{
		Name: r.GetName(), Version: r.GetVersion(), APIVersion: int(r.GetApiVersion()), Description: r.GetDescription(),
	}
	for _, l := range r.GetListeners() {
		i.Listeners = append(i.Listeners, ListenerSpec{Name: l.GetName(), Network: l.GetNetwork(), Address: l.GetAddress()})
	}
	i.Config = schemaFromPB(r.GetConfig())
	for _, v := range r.GetApiVersions() {
		i.APIVersions = append(i.APIVersions, int(v))
	}
	for _, f := range r.GetImports() {
		i.Imports = append(i.Imports, ImportFormat{Name: f.GetName(), Description: f.GetDescription(), Config: schemaFromPB(f.GetConfig()), Files: f.GetFiles()})
	}
	i.Capabilities = r.GetCapabilities()
	return i
}

// configToPB converts decoded config values; a value of a type the schema
// does not have is an error.
func configToPB(c Config) (map[string]*pb.Value, error) {
	out := make(map[string]*pb.Value, len(c.Values()))
	for k, v := range c.Values() {
		var pv *pb.Value
		switch v := v.(type) {
		case string:
			pv = &pb.Value{Kind: &pb.Value_StringValue{StringValue: v}}
		case float64:
			pv = &pb.Value{Kind: &pb.Value_NumberValue{NumberValue: v}}
		case int:
			pv = &pb.Value{Kind: &pb.Value_NumberValue{NumberValue: float64(v)}}
		case bool:
			pv = &pb.Value{Kind: &pb.Value_BoolValue{BoolValue: v}}
		case []string:
			pv = &pb.Value{Kind: &pb.Value_StringList{StringList: &pb.StringList{Values: v}}}
		case time.Duration:
			pv = &pb.Value{Kind: &pb.Value_DurationNs{DurationNs: int64(v)}}
		default:
			return nil, fmt.Errorf("config attribute %q: unsupported value type %T", k, v)
		}
		out[k] = pv
	}
	return out, nil
}

func configFromPB(m map[string]*pb.Value) Config {
	values := make(map[string]any, len(m))
	for k, v := range m {
		switch v := v.GetKind().(type) {
		case *pb.Value_StringValue:
			values[k] = v.StringValue
		case *pb.Value_NumberValue:
			values[k] = v.NumberValue
		case *pb.Value_BoolValue:
			values[k] = v.BoolValue
		case *pb.Value_StringList:
			values[k] = append([]string(nil), v.StringList.GetValues()...)
		case *pb.Value_DurationNs:
			values[k] = time.Duration(v.DurationNs)
		}
	}
	return NewConfig(values)
}

func clientToPB(c Client) *pb.Client {
	return &pb.Client{User: c.User, Host: c.Host, Display: c.Display, Project: c.Project, Addr: c.Addr}
}

func clientFromPB(c *pb.Client) Client {
	return Client{User: c.GetUser(), Host: c.GetHost(), Display: c.GetDisplay(), Project: c.GetProject(), Addr: c.GetAddr()}
}

func checkoutRequestToPB(r CheckoutRequest) *pb.CheckoutRequest {
	return &pb.CheckoutRequest{
		Vendor: r.Vendor, Feature: r.Feature, Version: r.Version, Count: int64(r.Count),
		Client: clientToPB(r.Client), WaitNs: int64(r.Wait), BorrowNs: int64(r.Borrow),
		Sign: r.Sign, Nonce: r.Nonce, BindConn: r.BindConn, RequestKey: r.RequestKey,
	}
}

// checkoutRequestInto is checkoutRequestToPB into messages the caller
// owns (a reused call's); client becomes p's Client.
func checkoutRequestInto(p *pb.CheckoutRequest, client *pb.Client, r CheckoutRequest) {
	client.User, client.Host, client.Display, client.Project, client.Addr = r.Client.User, r.Client.Host, r.Client.Display, r.Client.Project, r.Client.Addr
	p.Vendor, p.Feature, p.Version, p.Count = r.Vendor, r.Feature, r.Version, int64(r.Count)
	p.Client, p.WaitNs, p.BorrowNs = client, int64(r.Wait), int64(r.Borrow)
	p.Sign, p.Nonce, p.BindConn, p.RequestKey = r.Sign, r.Nonce, r.BindConn, r.RequestKey
}

func checkoutRequestFromPB(r *pb.CheckoutRequest) CheckoutRequest {
	return CheckoutRequest{
		Vendor: r.GetVendor(), Feature: r.GetFeature(), Version: r.GetVersion(), Count: int(r.GetCount()),
		Client: clientFromPB(r.GetClient()), Wait: time.Duration(r.GetWaitNs()), Borrow: time.Duration(r.GetBorrowNs()),
		Sign: r.GetSign(), Nonce: r.GetNonce(), BindConn: r.GetBindConn(), RequestKey: r.GetRequestKey(),
	}
}

func grantToPB(g *Grant) *pb.Grant {
	if g == nil {
		return nil
	}
	return &pb.Grant{
		Lease: g.Lease, Vendor: g.Vendor, Feature: g.Feature, Version: g.Version, Count: int32(g.Count),
		TtlNs: int64(g.TTL), ExpiresUnixNs: unixNanos(g.Expires), Borrowed: g.Borrowed, Signature: g.Signature,
	}
}

func grantFromPB(g *pb.Grant) *Grant {
	if g == nil {
		return nil
	}
	v := grantValueFromPB(g)
	return &v
}

func grantValueFromPB(g *pb.Grant) Grant {
	return Grant{
		Lease: g.GetLease(), Vendor: g.GetVendor(), Feature: g.GetFeature(), Version: g.GetVersion(), Count: int(g.GetCount()),
		TTL: time.Duration(g.GetTtlNs()), Expires: fromUnixNanos(g.GetExpiresUnixNs()), Borrowed: g.GetBorrowed(), Signature: g.GetSignature(),
	}
}

func denialToPB(d *Denial) *pb.Denial {
	if d == nil {
		return nil
	}
	return &pb.Denial{Reason: d.Reason, Message: d.Message, InUse: int32(d.InUse), Seats: int32(d.Seats)}
}

func denialFromPB(d *pb.Denial) *Denial {
	if d == nil {
		return nil
	}
	return &Denial{Reason: d.GetReason(), Message: d.GetMessage(), InUse: int(d.GetInUse()), Seats: int(d.GetSeats())}
}

// checkoutToPB converts a checkout answer; Updates is carried separately as
// TicketUpdates on the stream.
func checkoutToPB(c *Checkout) *pb.CheckoutResult {
	return &pb.CheckoutResult{
		Outcome: pb.Outcome(c.Outcome), Grant: grantToPB(c.Grant), Denial: denialToPB(c.Denial),
		Ticket: c.Ticket, Position: int32(c.Position),
	}
}

func ticketUpdateToPB(u TicketUpdate) *pb.TicketUpdate {
	return &pb.TicketUpdate{Ticket: u.Ticket, Position: int32(u.Position), Grant: grantToPB(u.Grant), Denial: denialToPB(u.Denial)}
}

func ticketUpdateFromPB(u *pb.TicketUpdate) TicketUpdate {
	return TicketUpdate{Ticket: u.GetTicket(), Position: int(u.GetPosition()), Grant: grantFromPB(u.GetGrant()), Denial: denialFromPB(u.GetDenial())}
}

func statusToPB(fs []FeatureStatus) *pb.StatusResult {
	r := &pb.StatusResult{Features: make([]*pb.FeatureStatus, 0, len(fs))}
	for _, f := range fs {
		p := &pb.FeatureStatus{
			Vendor: f.Vendor, Feature: f.Feature, Version: f.Version, Description: f.Description,
			Seats: int32(f.Seats), InUse: int32(f.InUse), Queued: int32(f.Queued),
			StartUnixNs: unixNanos(f.Start), ExpiryUnixNs: unixNanos(f.Expiry), LeaseTtlNs: int64(f.LeaseTTL),
			Queue: f.Queue, Borrow: f.Borrow, MaxBorrowNs: int64(f.MaxBorrow),
		}
		for _, rv := range f.Reserved {
			p.Reserved = append(p.Reserved, &pb.Reservation{Kind: rv.Kind, Name: rv.Name, Seats: int32(rv.Seats), InUse: int32(rv.InUse)})
		}
		for _, l := range f.Leases {
			p.Leases = append(p.Leases, &pb.LeaseInfo{
				Lease: l.Lease, Count: int32(l.Count), Client: clientToPB(l.Client), Protocol: l.Protocol, Plugin: l.Plugin,
				GrantedUnixNs: unixNanos(l.Granted), ExpiresUnixNs: unixNanos(l.Expires), Borrowed: l.Borrowed, Reserved: int32(l.Reserved),
			})
		}
		for _, t := range f.Tickets {
			p.Tickets = append(p.Tickets, &pb.TicketInfo{
				Ticket: t.Ticket, Count: int32(t.Count), Client: clientToPB(t.Client), QueuedUnixNs: unixNanos(t.Queued), Position: int32(t.Position),
			})
		}
		r.Features = append(r.Features, p)
	}
	return r
}

func statusFromPB(r *pb.StatusResult) []FeatureStatus {
	out := make([]FeatureStatus, 0, len(r.GetFeatures()))
	for _, p := range r.GetFeatures() {
		f := FeatureStatus{
			Vendor: p.GetVendor(), Feature: p.GetFeature(), Version: p.GetVersion(), Description: p.GetDescription(),
			Seats: int(p.GetSeats()), InUse: int(p.GetInUse()), Queued: int(p.GetQueued()),
			Start: fromUnixNanos(p.GetStartUnixNs()), Expiry: fromUnixNanos(p.GetExpiryUnixNs()), LeaseTTL: time.Duration(p.GetLeaseTtlNs()),
			Queue: p.GetQueue(), Borrow: p.GetBorrow(), MaxBorrow: time.Duration(p.GetMaxBorrowNs()),
		}
		for _, rv := range p.GetReserved() {
			f.Reserved = append(f.Reserved, Reservation{Kind: rv.GetKind(), Name: rv.GetName(), Seats: int(rv.GetSeats()), InUse: int(rv.GetInUse())})
		}
		for _, l := range p.GetLeases() {
			f.Leases = append(f.Leases, LeaseInfo{
				Lease: l.GetLease(), Count: int(l.GetCount()), Client: clientFromPB(l.GetClient()), Protocol: l.GetProtocol(), Plugin: l.GetPlugin(),
				Granted: fromUnixNanos(l.GetGrantedUnixNs()), Expires: fromUnixNanos(l.GetExpiresUnixNs()), Borrowed: l.GetBorrowed(), Reserved: int(l.GetReserved()),
			})
		}
		for _, t := range p.GetTickets() {
			f.Tickets = append(f.Tickets, TicketInfo{
				Ticket: t.GetTicket(), Count: int(t.GetCount()), Client: clientFromPB(t.GetClient()), Queued: fromUnixNanos(t.GetQueuedUnixNs()), Position: int(t.GetPosition()),
			})
		}
		out = append(out, f)
	}
	return out
}

// errorToPB encodes err so that errorFromPB gives back something callers
// can branch on with errors.Is / errors.As.
func errorToPB(err error) *pb.Error {
	var gone *GoneError
	switch {
	case errors.As(err, &gone):
		return &pb.Error{Code: pb.Error_CODE_GONE, Message: err.Error(), Lease: gone.Lease, Reason: gone.Reason}
	case errors.Is(err, ErrInvalid):
		return &pb.Error{Code: pb.Error_CODE_INVALID, Message: err.Error()}
	case errors.Is(err, ErrUnavailable):
		return &pb.Error{Code: pb.Error_CODE_UNAVAILABLE, Message: err.Error()}
	case errors.Is(err, ErrUnknownTicket):
		return &pb.Error{Code: pb.Error_CODE_UNKNOWN_TICKET, Message: err.Error()}
	case errors.Is(err, context.DeadlineExceeded):
		return &pb.Error{Code: pb.Error_CODE_DEADLINE_EXCEEDED, Message: err.Error()}
	case errors.Is(err, context.Canceled):
		return &pb.Error{Code: pb.Error_CODE_CANCELED, Message: err.Error()}
	default:
		return &pb.Error{Code: pb.Error_CODE_UNSPECIFIED, Message: err.Error()}
	}
}

// RemoteError is a gateway failure that has no sentinel of its own.
type RemoteError struct{ Message string }

func (e *RemoteError) Error() string { return "gateway: " + e.Message }

func errorFromPB(e *pb.Error) error {
	switch e.GetCode() {
	case pb.Error_CODE_GONE:
		return &GoneError{Lease: e.GetLease(), Reason: e.GetReason()}
	case pb.Error_CODE_UNAVAILABLE:
		return wrapSentinel(ErrUnavailable, e.GetMessage())
	case pb.Error_CODE_UNKNOWN_TICKET:
		return wrapSentinel(ErrUnknownTicket, e.GetMessage())
	case pb.Error_CODE_INVALID:
		return wrapSentinel(ErrInvalid, e.GetMessage())
	case pb.Error_CODE_DEADLINE_EXCEEDED:
		return context.DeadlineExceeded
	case pb.Error_CODE_CANCELED:
		return context.Canceled
	default:
		return &RemoteError{Message: e.GetMessage()}
	}
}

// wrapSentinel keeps the gateway's detail without repeating the sentinel's
// own text.
func wrapSentinel(sentinel error, msg string) error {
	msg = strings.TrimPrefix(strings.TrimPrefix(msg, sentinel.Error()), ": ")
	if msg == "" {
		return sentinel
	}
	return fmt.Errorf("%w: %s", sentinel, msg)
}

func metricsToPB(ms []Metric) *pb.MetricsResponse {
	r := &pb.MetricsResponse{Metrics: make([]*pb.Metric, 0, len(ms))}
	for _, m := range ms {
		r.Metrics = append(r.Metrics, &pb.Metric{
			Name: m.Name, Help: m.Help, Type: string(m.Type), Value: m.Value, Labels: m.Labels,
		})
	}
	return r
}

func metricsFromPB(r *pb.MetricsResponse) []Metric {
	out := make([]Metric, 0, len(r.GetMetrics()))
	for _, m := range r.GetMetrics() {
		out = append(out, Metric{
			Name: m.GetName(), Help: m.GetHelp(), Type: MetricType(m.GetType()), Value: m.GetValue(), Labels: m.GetLabels(),
		})
	}
	return out
}
