package threeway

import (
	"testing"
)

// BenchmarkConnectAcceptClose opens, accepts and closes one connection
// per iteration between two stacks on an in-memory pipe: the cost of a
// connection's life through the runtime and the host.
func BenchmarkConnectAcceptClose(b *testing.B) {
	n := newTestNet(b, netConfig{})
	l, err := n.server.Listen("tcp", ":9")
	if err != nil {
		b.Fatal(err)
	}
	accepted := make(chan error, 1)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				accepted <- nil
				return
			}
			c.Close()
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := n.client.Dial("tcp", "192.0.2.2:9")
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
	b.StopTimer()
	l.Close()
	<-accepted
}
