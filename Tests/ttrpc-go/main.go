// Command ttrpc-client calls virthostd's ttrpc socket with containerd's Go
// ttrpc client (Debian's 1.1.1: unary calls only) and prints one JSON
// document of what every call returned, for Tests/python/test_ttrpc_interop.py.
//
//	ttrpc-client --socket /tmp/vhu-x/agent.ttrpc --prefix vhu-abc-
//
// The virthost.v1 message types are generated from proto/ by build.sh
// (protoc + gogoprotobuf, the marshalling ttrpc 1.1.1 uses); they are not
// committed. Every call is recorded, failures included: the checks are the
// Python test's job, so this program exits 0 unless it cannot run at all.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"

	pb "vhpb"
)

// Detail is one entry of a failed call's google.rpc.Status details.
type Detail struct {
	Type     string            `json:"type"`
	Domain   string            `json:"domain,omitempty"`
	Reason   string            `json:"reason,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Result is what one call returned.
type Result struct {
	Code      int32                  `json:"code"`
	CodeName  string                 `json:"code_name"`
	Message   string                 `json:"message,omitempty"`
	Details   []Detail               `json:"details,omitempty"`
	Fields    map[string]interface{} `json:"fields,omitempty"`
	ElapsedMs float64                `json:"elapsed_ms"`
	// A client-side error that is not a status (e.g. the context's deadline).
	Local string `json:"local,omitempty"`
}

var results = map[string]*Result{}

func record(name string, started time.Time, err error, fields map[string]interface{}) *Result {
	r := &Result{Fields: fields, ElapsedMs: float64(time.Since(started).Microseconds()) / 1000}
	if err != nil {
		r.Fields = nil
		if st, ok := status.FromError(err); ok {
			r.Code = int32(st.Code())
			r.Message = st.Message()
			for _, d := range st.Proto().GetDetails() {
				r.Details = append(r.Details, Detail{Type: d.GetTypeUrl()})
			}
			i := 0
			for _, d := range st.Details() {
				if info, ok := d.(*errdetails.ErrorInfo); ok && i < len(r.Details) {
					r.Details[i].Domain = info.Domain
					r.Details[i].Reason = info.Reason
					r.Details[i].Metadata = info.Metadata
				}
				i++
			}
		} else {
			r.Code = -1
			r.Local = err.Error()
			if err == context.DeadlineExceeded {
				r.Code = 4
			}
		}
	}
	r.CodeName = codeName(r.Code)
	results[name] = r
	return r
}

func codeName(code int32) string {
	names := []string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
		"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
		"OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}
	if code >= 0 && int(code) < len(names) {
		return names[code]
	}
	return "LOCAL"
}

func networkFields(n *pb.Network) map[string]interface{} {
	if n == nil {
		return nil
	}
	return map[string]interface{}{
		"name": n.Name, "uuid": n.Uuid, "active": n.Active, "persistent": n.Persistent,
		"autostart": n.Autostart, "bridge": n.Bridge, "forward_mode": n.ForwardMode.String(),
		"addresses": n.Addresses, "spec_name": n.GetSpec().GetName(),
		"spec_isolated": n.GetSpec().GetIsolated() != nil,
	}
}

const (
	hostService    = "virthost.v1.HostService"
	networkService = "virthost.v1.NetworkService"
)

func main() {
	socket := flag.String("socket", "", "virthostd's ttrpc socket")
	prefix := flag.String("prefix", "vhu-ttrpc-", "prefix of the network this program defines and removes")
	flag.Parse()
	if *socket == "" {
		fmt.Fprintln(os.Stderr, "usage: ttrpc-client --socket PATH [--prefix PREFIX]")
		os.Exit(2)
	}
	conn, err := net.Dial("unix", *socket)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ttrpc-client:", err)
		os.Exit(1)
	}
	client := ttrpc.NewClient(conn)
	defer client.Close()

	call := func(name, service, method string, req, resp interface{}, fields func() map[string]interface{}) *Result {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		started := time.Now()
		err := client.Call(ctx, service, method, req, resp)
		var f map[string]interface{}
		if err == nil && fields != nil {
			f = fields()
		}
		return record(name, started, err, f)
	}

	version := &pb.GetVersionResponse{}
	call("GetVersion", hostService, "GetVersion", &pb.GetVersionRequest{}, version, func() map[string]interface{} {
		return map[string]interface{}{"hypervisor_type": version.HypervisorType, "agent_version": version.AgentVersion,
			"libvirt_version": version.LibvirtVersion, "uri": version.Uri, "hostname": version.Hostname}
	})
	health := &pb.GetHealthResponse{}
	call("GetHealth", hostService, "GetHealth", &pb.GetHealthRequest{}, health, func() map[string]interface{} {
		return map[string]interface{}{"status": health.Status.String(), "libvirt_connected": health.LibvirtConnected,
			"uri": health.Uri, "event_epoch": health.EventEpoch}
	})
	listed := &pb.ListNetworksResponse{}
	call("ListNetworks", networkService, "ListNetworks", &pb.ListNetworksRequest{}, listed, func() map[string]interface{} {
		names := []string{}
		for _, n := range listed.Networks {
			names = append(names, n.Name)
		}
		return map[string]interface{}{"names": names}
	})

	// A network's whole life, from a typed spec.
	name := *prefix + "net"
	spec := &pb.NetworkSpec{
		Name: name,
		Ips: []*pb.NetworkIP{{Address: "10.213.1.1", Prefix: 24,
			DhcpRanges: []*pb.DhcpRange{{Start: "10.213.1.10", End: "10.213.1.20"}}}},
		Kind: &pb.NetworkSpec_Isolated{Isolated: &pb.IsolatedNetwork{}},
	}
	ref := &pb.NetworkRef{Name: name}
	var net1 pb.Network
	call("DefineNetwork", networkService, "DefineNetwork",
		&pb.DefineNetworkRequest{Definition: &pb.DefineNetworkRequest_Spec{Spec: spec}}, &net1,
		func() map[string]interface{} { return networkFields(&net1) })
	var net2 pb.Network
	call("GetNetwork", networkService, "GetNetwork", ref, &net2, func() map[string]interface{} { return networkFields(&net2) })
	var net3 pb.Network
	call("StartNetwork", networkService, "StartNetwork", ref, &net3, func() map[string]interface{} { return networkFields(&net3) })
	var net4 pb.Network
	call("StopNetwork", networkService, "StopNetwork", ref, &net4, func() map[string]interface{} { return networkFields(&net4) })
	call("UndefineNetwork", networkService, "UndefineNetwork", ref, &pb.Empty{}, func() map[string]interface{} { return map[string]interface{}{} })
	call("GetNetworkAfterUndefine", networkService, "GetNetwork", ref, &pb.Network{}, nil)

	// Errors.
	call("NotFound", networkService, "GetNetwork", &pb.NetworkRef{Name: *prefix + "no-such-net"}, &pb.Network{}, nil)
	// A name the agent refuses before libvirt sees it, and a reference naming nothing.
	badSpec := *spec
	badSpec.Name = "bad/name"
	call("BadName", networkService, "DefineNetwork",
		&pb.DefineNetworkRequest{Definition: &pb.DefineNetworkRequest_Spec{Spec: &badSpec}}, &pb.Network{}, nil)
	call("EmptyRef", networkService, "GetNetwork", &pb.NetworkRef{}, &pb.Network{}, nil)
	call("UnknownMethod", networkService, "NoSuchMethod", &pb.ListNetworksRequest{}, &pb.ListNetworksResponse{}, nil)
	call("UnknownService", "virthost.v1.NoSuchService", "ListNetworks", &pb.ListNetworksRequest{}, &pb.ListNetworksResponse{}, nil)

	// Deadlines: the Go client sends the context's deadline as timeout_nano.
	deadlineCall := func(name string, timeout time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		started := time.Now()
		err := client.Call(ctx, hostService, "GetVersion", &pb.GetVersionRequest{}, &pb.GetVersionResponse{})
		record(name, started, err, map[string]interface{}{"timeout_ms": float64(timeout.Microseconds()) / 1000})
	}
	// Short but enough: the agent must accept a timeout_nano and answer in time.
	deadlineCall("ShortDeadline", 2*time.Second)
	// Already over when the request is written: the client gives up locally...
	deadlineCall("ExpiredDeadline", time.Nanosecond)
	// ...and the late answer on the abandoned stream must not break the connection.
	call("AfterExpired", hostService, "GetVersion", &pb.GetVersionRequest{}, &pb.GetVersionResponse{},
		func() map[string]interface{} { return map[string]interface{}{} })
	// A request whose timeout_nano is over when the agent reads it, while the
	// client itself still waits: the agent must answer DEADLINE_EXCEEDED.
	{
		lying := ttrpc.NewClient(mustDial(*socket), ttrpc.WithUnaryClientInterceptor(
			func(ctx context.Context, req *ttrpc.Request, resp *ttrpc.Response, _ *ttrpc.UnaryClientInfo, invoker ttrpc.Invoker) error {
				req.TimeoutNano = 1
				return invoker(ctx, req, resp)
			}))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		started := time.Now()
		err := lying.Call(ctx, networkService, "ListNetworks", &pb.ListNetworksRequest{}, &pb.ListNetworksResponse{})
		record("ServerDeadline", started, err, map[string]interface{}{})
		cancel()
		lying.Close()
	}

	// Metadata the ttrpc client sends rides along; the peer keys are the agent's own.
	{
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		md := ttrpc.MD{}
		md.Set("virthost-peer-uid", "12345")
		md.Set("x-test", "hello")
		ctx = ttrpc.WithMetadata(ctx, md)
		started := time.Now()
		err := client.Call(ctx, hostService, "GetVersion", &pb.GetVersionRequest{}, &pb.GetVersionResponse{})
		record("WithMetadata", started, err, map[string]interface{}{})
		cancel()
	}

	out, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		fmt.Fprintln(os.Stderr, "ttrpc-client:", err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

func mustDial(path string) net.Conn {
	conn, err := net.Dial("unix", path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ttrpc-client:", err)
		os.Exit(1)
	}
	return conn
}
