package threeway

import (
	"bytes"
	"io"
	"testing"
)

func TestEchoOverPipe(t *testing.T) {
	n := newTestNet(t, netConfig{})
	l, err := n.server.Listen("tcp", ":7")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}()
	c, err := n.client.Dial("tcp", "192.0.2.2:7")
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("hello, threeway")
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	c.(*Conn).CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo = %q", got)
	}
	c.Close()
}
