// Command netlist prints the networks of a virthost agent, one a line:
// name, state, forward mode, addresses.
//
//	netlist [-socket /run/virthost/virthost.sock] [-ttrpc]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/virthost/virthost/clients/go/client"
	"github.com/virthost/virthost/clients/go/virthostv1"
)

func main() {
	socket := flag.String("socket", "", "the agent's socket (default $VIRTHOST_SOCKET, else "+client.DefaultSocket+")")
	ttrpc := flag.Bool("ttrpc", false, "the socket speaks ttrpc (the agent's --ttrpc-socket)")
	flag.Parse()
	transport := client.GRPC
	if *ttrpc {
		transport = client.TTRPC
	}
	c, err := client.Dial(*socket, client.WithTransport(transport))
	if err != nil {
		fmt.Fprintln(os.Stderr, "netlist:", err)
		os.Exit(1)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := c.Networks.ListNetworks(ctx, &virthostv1.ListNetworksRequest{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "netlist:", err)
		os.Exit(1)
	}
	for _, n := range list.GetNetworks() {
		state := "inactive"
		if n.GetActive() {
			state = "active"
		}
		mode := strings.ToLower(strings.TrimPrefix(n.GetForwardMode().String(), "FORWARD_MODE_"))
		fmt.Printf("%s\t%s\t%s\t%s\n", n.GetName(), state, mode, strings.Join(n.GetAddresses(), ","))
	}
}
