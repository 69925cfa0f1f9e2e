package threeway

import (
	"io"
	"testing"

	"github.com/threeway-tcp/threeway/link"
	"github.com/threeway-tcp/threeway/tcp"
)

// BenchmarkBulkTransfer moves data one way over one connection between two
// stacks on an in-memory pipe; b.SetBytes makes the result a throughput.
func BenchmarkBulkTransfer(b *testing.B) {
	for _, mtu := range []int{1500, 65535} {
		b.Run(map[int]string{1500: "mtu1500", 65535: "mtu65535"}[mtu], func(b *testing.B) {
			n := newTestNet(b, netConfig{
				pipe: link.PipeConfig{MTU: mtu},
				tcp:  tcp.Config{SendBuffer: 1 << 20, RecvBuffer: 1 << 20},
			})
			l, err := n.server.Listen("tcp", ":9")
			if err != nil {
				b.Fatal(err)
			}
			got := make(chan int64, 1)
			go func() {
				c, err := l.Accept()
				if err != nil {
					got <- 0
					return
				}
				k, _ := io.Copy(io.Discard, c)
				got <- k
			}()
			c, err := n.client.Dial("tcp", "192.0.2.2:9")
			if err != nil {
				b.Fatal(err)
			}
			chunk := make([]byte, 256<<10)
			b.SetBytes(int64(len(chunk)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.Write(chunk); err != nil {
					b.Fatal(err)
				}
			}
			c.Close()
			if k := <-got; k != int64(b.N)*int64(len(chunk)) {
				b.Fatalf("received %d of %d bytes", k, int64(b.N)*int64(len(chunk)))
			}
		})
	}
}
