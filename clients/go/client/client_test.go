package client_test

// These tests run the client against a real virthostd (VIRTHOST_BIN_DIR
// names the folder of the binary; clients/go/build.sh test is how make test
// runs them): the demo host of `make run` (libvirt's test driver), and
// qemu:///system when libvirtd answers there (VIRTHOST_QEMU=1 makes its
// absence a failure instead of a skip).

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/ttrpc"
	"github.com/gogo/protobuf/types"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/virthost/virthost/clients/go/client"
	"github.com/virthost/virthost/clients/go/virthostv1"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

func demoURI() string { return "test://" + filepath.Join(repoRoot(), "packaging", "demo", "host.xml") }

// agent is a virthostd this test started.
type agent struct {
	cmd    *exec.Cmd
	socket string
	ttrpc  string
}

// startAgent runs virthostd on uri with a gRPC socket and a ttrpc socket in
// dir, and returns once both accept connections.
func startAgent(t *testing.T, uri, dir string) *agent {
	t.Helper()
	bin := os.Getenv("VIRTHOST_BIN_DIR")
	if bin == "" {
		t.Fatal("VIRTHOST_BIN_DIR is not set: it names the folder of virthostd (clients/go/build.sh test)")
	}
	a := &agent{socket: filepath.Join(dir, "agent.sock"), ttrpc: filepath.Join(dir, "agent.ttrpc")}
	a.cmd = exec.Command(filepath.Join(bin, "virthostd"), "--connect", uri, "--socket", a.socket,
		"--ttrpc-socket", a.ttrpc, "--socket-mode", "0600", "--log-level", "warning", "--config", "/dev/null")
	a.cmd.Stderr = os.Stderr
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("starting virthostd: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = a.cmd.Wait(); close(exited) }()
	// Whatever the test does, the agent does not outlive it.
	t.Cleanup(func() {
		if a.cmd.Process.Signal(syscall.SIGTERM) == nil {
			select {
			case <-exited:
			case <-time.After(20 * time.Second):
				a.cmd.Process.Kill()
			}
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for _, path := range []string{a.socket, a.ttrpc} {
		for {
			if conn, err := net.Dial("unix", path); err == nil {
				conn.Close()
				break
			}
			select {
			case <-exited:
				t.Fatalf("virthostd exited before it opened %s", path)
			default:
			}
			if time.Now().After(deadline) {
				a.cmd.Process.Kill()
				t.Fatalf("virthostd did not open %s within 30 s", path)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return a
}

// stop ends the agent with SIGTERM and waits until its socket is gone.
func (a *agent) stop(t *testing.T) {
	t.Helper()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return // already gone
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(a.socket); os.IsNotExist(err) {
			if syscall.Kill(a.cmd.Process.Pid, 0) != nil {
				return
			}
		}
	}
	t.Errorf("virthostd (pid %d) did not stop within 20 s", a.cmd.Process.Pid)
}

// shortDir is a fresh folder for sockets (socket paths are limited to 107 bytes).
func shortDir(t *testing.T) string {
	dir, err := os.MkdirTemp("/tmp", "vhu-go-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func withTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, path string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.Dial(path, opts...)
	if err != nil {
		t.Fatalf("Dial(%s): %v", path, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func networkNames(t *testing.T, c *client.Client) []string {
	t.Helper()
	list, err := c.Networks.ListNetworks(withTimeout(t), &virthostv1.ListNetworksRequest{})
	if err != nil {
		t.Fatalf("ListNetworks over %v: %v", c.Transport(), err)
	}
	var names []string
	for _, n := range list.GetNetworks() {
		names = append(names, n.GetName())
	}
	return names
}

func TestDemoHostOverBothTransports(t *testing.T) {
	a := startAgent(t, demoURI(), shortDir(t))
	defer a.stop(t)
	for _, c := range []*client.Client{dial(t, a.socket), dial(t, a.ttrpc, client.WithTransport(client.TTRPC))} {
		t.Run(c.Transport().String(), func(t *testing.T) {
			want := "demo-bridged demo-isolated demo-nat demo-routed"
			if got := strings.Join(networkNames(t, c), " "); got != want {
				t.Fatalf("networks = %q, want %q", got, want)
			}
			nat, err := c.Networks.GetNetwork(withTimeout(t), &virthostv1.NetworkRef{Name: "demo-nat"})
			if err != nil {
				t.Fatal(err)
			}
			if nat.GetForwardMode() != virthostv1.ForwardMode_FORWARD_MODE_NAT || strings.Join(nat.GetAddresses(), ",") != "192.0.2.1/24" {
				t.Fatalf("demo-nat = %v", nat)
			}
			_, err = c.Networks.GetNetwork(withTimeout(t), &virthostv1.NetworkRef{Name: "no-such-net"})
			if !client.IsNotFound(err) || client.IsPermissionDenied(err) {
				t.Fatalf("GetNetwork(no-such-net) = %v, want NOT_FOUND", err)
			}
			var typed *client.Error
			if !errors.As(err, &typed) || typed.Code != codes.NotFound || !strings.Contains(typed.Message, "no-such-net") {
				t.Fatalf("error %#v is not a typed NOT_FOUND", err)
			}
			detail := client.LibvirtDetail(err)
			if detail == nil || detail.GetCode() != 43 { // VIR_ERR_NO_NETWORK
				t.Fatalf("libvirt detail = %v, want code 43", detail)
			}
			if typed.Info == nil || typed.Info.GetReason() != "VIR_ERR_NO_NETWORK" || typed.Info.GetDomain() != "libvirt.org" {
				t.Fatalf("ErrorInfo = %v", typed.Info)
			}
			health, err := c.Health.Check(withTimeout(t), &grpc_health_v1.HealthCheckRequest{Service: "virthost.v1.NetworkService"})
			if err != nil || health.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING {
				t.Fatalf("health = %v, %v", health, err)
			}
			_, err = c.Health.Check(withTimeout(t), &grpc_health_v1.HealthCheckRequest{Service: "no.Such"})
			if !client.IsNotFound(err) {
				t.Fatalf("health of an unknown service = %v, want NOT_FOUND", err)
			}
			// A request id is metadata; the agent accepts it (logging it is another issue's).
			ctx := client.WithRequestID(withTimeout(t), "go-test-1")
			if _, err := c.Host.GetVersion(ctx, &virthostv1.GetVersionRequest{}); err != nil {
				t.Fatal(err)
			}
		})
	}
	// Streams need gRPC: over ttrpc they fail at once and say why.
	c := dial(t, a.ttrpc, client.WithTransport(client.TTRPC))
	err := c.Watch(withTimeout(t), nil, func(*virthostv1.Event) error { return nil })
	if client.Code(err) != codes.Unimplemented {
		t.Fatalf("Watch over ttrpc = %v, want UNIMPLEMENTED", err)
	}
}

func TestDeadlineFromContext(t *testing.T) {
	a := startAgent(t, demoURI(), shortDir(t))
	defer a.stop(t)
	c := dial(t, a.socket)
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	time.Sleep(time.Millisecond)
	_, err := c.Networks.ListNetworks(ctx, &virthostv1.ListNetworksRequest{})
	if !client.IsDeadlineExceeded(err) {
		t.Fatalf("a call past its deadline = %v, want DEADLINE_EXCEEDED", err)
	}
}

// recorder is a stand-in HostService that notes each call's request id.
type recorder struct {
	virthostv1.UnimplementedHostServiceServer
	mu  sync.Mutex
	ids []string
}

func (r *recorder) note(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, id)
}

func (r *recorder) GetVersion(ctx context.Context, _ *virthostv1.GetVersionRequest) (*virthostv1.GetVersionResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	r.note(strings.Join(md.Get(client.RequestIDKey), "|"))
	return &virthostv1.GetVersionResponse{AgentVersion: "stand-in"}, nil
}

func TestRequestIDsReachTheWire(t *testing.T) {
	dir := shortDir(t)
	seen := &recorder{}
	// gRPC: a grpc-go server on a Unix socket.
	listener, err := net.Listen("unix", filepath.Join(dir, "grpc.sock"))
	if err != nil {
		t.Fatal(err)
	}
	server := grpc.NewServer(grpc.CustomCodec(client.Codec().(grpc.Codec)))
	virthostv1.RegisterHostServiceServer(server, seen)
	go server.Serve(listener)
	defer server.Stop()
	// ttrpc: containerd's server, answering with an empty message.
	ttrpcListener, err := net.Listen("unix", filepath.Join(dir, "ttrpc.sock"))
	if err != nil {
		t.Fatal(err)
	}
	ttrpcServer, err := ttrpc.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	ttrpcServer.Register("virthost.v1.HostService", map[string]ttrpc.Method{
		"GetVersion": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			md, _ := ttrpc.GetMetadata(ctx)
			seen.note(strings.Join(md[client.RequestIDKey], "|"))
			return &types.Empty{}, nil
		},
	})
	go ttrpcServer.Serve(context.Background(), ttrpcListener)
	defer ttrpcServer.Close()

	counter := 0
	next := func() string { counter++; return fmt.Sprintf("gen-%d", counter) }
	grpcClient := dial(t, filepath.Join(dir, "grpc.sock"), client.WithRequestIDs(next))
	ttrpcClient := dial(t, filepath.Join(dir, "ttrpc.sock"), client.WithTransport(client.TTRPC), client.WithRequestIDs(next))
	for _, c := range []*client.Client{grpcClient, ttrpcClient} {
		if _, err := c.Host.GetVersion(withTimeout(t), &virthostv1.GetVersionRequest{}); err != nil {
			t.Fatalf("%v: %v", c.Transport(), err)
		}
		if _, err := c.Host.GetVersion(client.WithRequestID(withTimeout(t), "mine-"+c.Transport().String()), &virthostv1.GetVersionRequest{}); err != nil {
			t.Fatalf("%v: %v", c.Transport(), err)
		}
	}
	// Plain dial: no id at all.
	if _, err := dial(t, filepath.Join(dir, "grpc.sock")).Host.GetVersion(withTimeout(t), &virthostv1.GetVersionRequest{}); err != nil {
		t.Fatal(err)
	}
	want := "gen-1,mine-grpc,gen-2,mine-ttrpc,"
	if got := strings.Join(seen.ids, ","); got != want {
		t.Fatalf("request ids on the wire = %q, want %q", got, want)
	}
}

// lifecycle defines, starts, stops and undefines an isolated network, and
// removes it whatever happens.
func lifecycle(t *testing.T, c *client.Client) {
	name := fmt.Sprintf("vht-%d-go-net", os.Getpid())
	ctx := withTimeout(t)
	defer func() {
		cleanup, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c.Networks.StopNetwork(cleanup, &virthostv1.NetworkRef{Name: name})
		c.Networks.UndefineNetwork(cleanup, &virthostv1.NetworkRef{Name: name})
	}()
	spec := &virthostv1.NetworkSpec{Name: name, Kind: &virthostv1.NetworkSpec_Isolated{Isolated: &virthostv1.IsolatedNetwork{}}}
	defined, err := c.Networks.DefineNetwork(ctx, &virthostv1.DefineNetworkRequest{
		Definition: &virthostv1.DefineNetworkRequest_Spec{Spec: spec}})
	if err != nil {
		t.Fatalf("DefineNetwork: %v", err)
	}
	if defined.GetName() != name || defined.GetActive() || defined.GetForwardMode() != virthostv1.ForwardMode_FORWARD_MODE_ISOLATED {
		t.Fatalf("defined = %v", defined)
	}
	_, err = c.Networks.DefineNetwork(ctx, &virthostv1.DefineNetworkRequest{Definition: &virthostv1.DefineNetworkRequest_Spec{Spec: spec}})
	if err == nil {
		t.Fatal("defining the same network twice succeeded")
	}
	started, err := c.Networks.StartNetwork(ctx, &virthostv1.NetworkRef{Name: name})
	if err != nil || !started.GetActive() {
		t.Fatalf("StartNetwork = %v, %v", started, err)
	}
	if _, err = c.Networks.StartNetwork(ctx, &virthostv1.NetworkRef{Name: name}); !client.IsFailedPrecondition(err) {
		t.Fatalf("starting a running network = %v, want FAILED_PRECONDITION", err)
	}
	stopped, err := c.Networks.StopNetwork(ctx, &virthostv1.NetworkRef{Name: name})
	if err != nil || stopped.GetActive() {
		t.Fatalf("StopNetwork = %v, %v", stopped, err)
	}
	if _, err := c.Networks.UndefineNetwork(ctx, &virthostv1.NetworkRef{Name: name}); err != nil {
		t.Fatalf("UndefineNetwork: %v", err)
	}
	if _, err := c.Networks.GetNetwork(ctx, &virthostv1.NetworkRef{Name: name}); !client.IsNotFound(err) {
		t.Fatalf("GetNetwork after undefine = %v, want NOT_FOUND", err)
	}
}

func TestNetworkLifecycleOnDemoHost(t *testing.T) {
	a := startAgent(t, demoURI(), shortDir(t))
	defer a.stop(t)
	t.Run("grpc", func(t *testing.T) { lifecycle(t, dial(t, a.socket)) })
	t.Run("ttrpc", func(t *testing.T) { lifecycle(t, dial(t, a.ttrpc, client.WithTransport(client.TTRPC))) })
}

func TestQemuSystem(t *testing.T) {
	if err := exec.Command("virsh", "-q", "-c", "qemu:///system", "version").Run(); err != nil {
		if os.Getenv("VIRTHOST_QEMU") == "1" {
			t.Fatalf("qemu:///system does not answer: %v", err)
		}
		t.Skip("qemu:///system does not answer (make libvirtd)")
	}
	a := startAgent(t, "qemu:///system", shortDir(t))
	defer a.stop(t)
	c := dial(t, a.socket)
	networkNames(t, c) // lists
	_, err := c.Networks.GetNetwork(withTimeout(t), &virthostv1.NetworkRef{Name: fmt.Sprintf("vht-%d-missing", os.Getpid())})
	if !client.IsNotFound(err) || client.LibvirtDetail(err).GetCode() != 43 {
		t.Fatalf("missing network = %v", err)
	}
	lifecycle(t, c)
}

func TestWatchResumesAfterAgentRestart(t *testing.T) {
	dir := shortDir(t)
	a := startAgent(t, demoURI(), dir)
	c := dial(t, a.socket)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	events := make(chan *virthostv1.Event, 100)
	done := make(chan error, 1)
	go func() {
		done <- c.Watch(ctx, &virthostv1.WatchRequest{Kinds: []virthostv1.EventKind{virthostv1.EventKind_EVENT_KIND_NETWORK}},
			func(e *virthostv1.Event) error { events <- e; return nil })
	}()
	expect := func(what string, match func(*virthostv1.Event) bool) *virthostv1.Event {
		t.Helper()
		for {
			select {
			case e := <-events:
				if match(e) {
					return e
				}
			case err := <-done:
				t.Fatalf("Watch ended (%v) before %s", err, what)
			case <-time.After(20 * time.Second):
				t.Fatalf("no %s within 20 s", what)
			}
		}
	}
	define := func(name string) {
		t.Helper()
		// The watch may still be subscribing: define until its event comes.
		_, err := c.Networks.DefineNetwork(withTimeout(t), &virthostv1.DefineNetworkRequest{Definition: &virthostv1.DefineNetworkRequest_Spec{
			Spec: &virthostv1.NetworkSpec{Name: name, Kind: &virthostv1.NetworkSpec_Isolated{Isolated: &virthostv1.IsolatedNetwork{}}}}})
		if err != nil {
			t.Fatalf("DefineNetwork(%s): %v", name, err)
		}
	}
	time.Sleep(300 * time.Millisecond) // the stream subscribes
	first := fmt.Sprintf("vht-%d-w1", os.Getpid())
	define(first)
	before := expect("the first agent's event", func(e *virthostv1.Event) bool { return e.GetName() == first })
	a.stop(t)
	b := startAgent(t, demoURI(), dir)
	defer b.stop(t)
	gap := expect("a gap after the restart", func(e *virthostv1.Event) bool {
		return e.GetKind() == virthostv1.EventKind_EVENT_KIND_SYSTEM && e.GetType() == "gap"
	})
	if gap.GetEpoch() == before.GetEpoch() || gap.GetGapFrom() != 1 {
		t.Fatalf("gap %v after an event of epoch %d", gap, before.GetEpoch())
	}
	second := fmt.Sprintf("vht-%d-w2", os.Getpid())
	define(second)
	after := expect("the second agent's event", func(e *virthostv1.Event) bool { return e.GetName() == second })
	if after.GetEpoch() != gap.GetEpoch() {
		t.Fatalf("event %v is not of the new agent's epoch %d", after, gap.GetEpoch())
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Watch returned %v after cancel, want context.Canceled", err)
	}
}

// readmeBlock is the first fenced block of language lang after heading in README.md.
func readmeBlock(t *testing.T, heading, lang string) string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(repoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "\n"+heading+"\n")
	if start < 0 {
		t.Fatalf("README.md has no %q", heading)
	}
	text = text[start:]
	open := strings.Index(text, "\n```"+lang+"\n")
	if open < 0 {
		t.Fatalf("no ```%s block after %q", lang, heading)
	}
	text = text[open+len("\n```"+lang+"\n"):]
	return text[:strings.Index(text, "\n```")]
}

// TestReadmeSnippet runs README.md's "From Go" code as a program against the demo host.
func TestReadmeSnippet(t *testing.T) {
	snippet := readmeBlock(t, "## From Go", "go")
	if !strings.Contains(snippet, client.DefaultSocket) {
		t.Fatalf("the README snippet does not dial %s:\n%s", client.DefaultSocket, snippet)
	}
	dir := shortDir(t)
	a := startAgent(t, demoURI(), dir)
	defer a.stop(t)
	program := "package main\n\nimport (\n\t\"context\"\n\t\"fmt\"\n\t\"log\"\n\n" +
		"\t\"github.com/virthost/virthost/clients/go/client\"\n\t\"github.com/virthost/virthost/clients/go/virthostv1\"\n)\n\n" +
		"func main() {\n" + strings.ReplaceAll(snippet, client.DefaultSocket, a.socket) + "\n}\n"
	source := filepath.Join(dir, "main.go")
	if err := os.WriteFile(source, []byte(program), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "run", source).CombinedOutput()
	if err != nil {
		t.Fatalf("go run of the README snippet: %v\n%s\n%s", err, out, program)
	}
	if !strings.Contains(string(out), "demo-nat true\n") || strings.Count(string(out), "\n") != 4 {
		t.Fatalf("the README snippet printed:\n%s", out)
	}
}
