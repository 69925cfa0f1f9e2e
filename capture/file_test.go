package capture

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestOpenFile(t *testing.T) {
	want := pcapOf(t, 0, synPacket(t, cli4, srv4), dataPacket(t, cli4, srv4, "hello"))
	dir := t.TempDir()
	path := filepath.Join(dir, "x.pcap")
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Data, want) {
		t.Fatal("mapped bytes differ from the file")
	}
	pkts, err := ReadAll(f.Data)
	if err != nil || len(pkts) != 2 {
		t.Fatalf("%d packets, %v", len(pkts), err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.pcap")
	os.WriteFile(empty, nil, 0o644)
	if f, err := OpenFile(empty); err != nil || len(f.Data) != 0 {
		t.Errorf("empty file: %v", err)
	}
	if _, err := OpenFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file opened")
	}
}
