package main

import (
	"errors"
	"sync"

	"github.com/threeway-tcp/threeway/link"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// gvLink runs a gVisor stack over a threeway link.Link, so that both
// stacks under test share the same transport: a link.Pipe, whose
// WritePackets copies each packet into the peer's queue and whose
// ReadPackets copies it out into the reader's buffer.
//
// Outbound, gVisor hands us a packet as a chain of views (headers and
// payload); we gather it into one contiguous buffer per packet, which is
// gVisor's counterpart of threeway building its packet into a tx buffer,
// then write the batch to the link. Inbound, a reader goroutine (the
// counterpart of threeway's readLoop) reads straight into gVisor views, so
// no copy is added on receive, and delivers each one to the stack.
type gvLink struct {
	l   link.Link
	mtu int

	wmu     sync.Mutex // serializes writers; guards scratch and batch
	scratch [][]byte
	batch   [][]byte

	dmu        sync.RWMutex
	dispatcher stack.NetworkDispatcher
	started    bool
	wg         sync.WaitGroup
}

var _ stack.LinkEndpoint = (*gvLink)(nil)

func newGvLink(l link.Link) *gvLink {
	return &gvLink{l: l, mtu: l.MTU()}
}

// MTU implements stack.LinkEndpoint.
func (e *gvLink) MTU() uint32 { return uint32(e.mtu) }

// SetMTU implements stack.LinkEndpoint; the link's MTU is fixed.
func (e *gvLink) SetMTU(uint32) {}

// MaxHeaderLength implements stack.LinkEndpoint: IP packets, no link header.
func (e *gvLink) MaxHeaderLength() uint16 { return 0 }

// LinkAddress implements stack.LinkEndpoint.
func (e *gvLink) LinkAddress() tcpip.LinkAddress { return "" }

// SetLinkAddress implements stack.LinkEndpoint.
func (e *gvLink) SetLinkAddress(tcpip.LinkAddress) {}

// Capabilities implements stack.LinkEndpoint. None: gVisor computes and
// verifies checksums itself, as threeway does, and does no GSO.
func (e *gvLink) Capabilities() stack.LinkEndpointCapabilities { return 0 }

// Attach implements stack.LinkEndpoint and starts the reader.
func (e *gvLink) Attach(d stack.NetworkDispatcher) {
	e.dmu.Lock()
	defer e.dmu.Unlock()
	e.dispatcher = d
	if d != nil && !e.started {
		e.started = true
		e.wg.Add(1)
		go e.readLoop()
	}
}

// IsAttached implements stack.LinkEndpoint.
func (e *gvLink) IsAttached() bool {
	e.dmu.RLock()
	defer e.dmu.RUnlock()
	return e.dispatcher != nil
}

// Wait implements stack.LinkEndpoint: it waits for the reader to stop,
// which it does once the link is closed.
func (e *gvLink) Wait() { e.wg.Wait() }

// ARPHardwareType implements stack.LinkEndpoint.
func (e *gvLink) ARPHardwareType() header.ARPHardwareType { return header.ARPHardwareNone }

// AddHeader implements stack.LinkEndpoint.
func (e *gvLink) AddHeader(*stack.PacketBuffer) {}

// ParseHeader implements stack.LinkEndpoint.
func (e *gvLink) ParseHeader(*stack.PacketBuffer) bool { return true }

// Close implements stack.LinkEndpoint.
func (e *gvLink) Close() { e.l.Close() }

// SetOnCloseAction implements stack.LinkEndpoint.
func (e *gvLink) SetOnCloseAction(func()) {}

// WritePackets implements stack.LinkWriter. The caller keeps ownership of
// the packets (as with gVisor's channel endpoint, which clones them).
func (e *gvLink) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	list := pkts.AsSlice()
	if len(list) == 0 {
		return 0, nil
	}
	e.wmu.Lock()
	defer e.wmu.Unlock()
	for len(e.scratch) < len(list) {
		e.scratch = append(e.scratch, make([]byte, 0, e.mtu))
	}
	e.batch = e.batch[:0]
	for i, pkt := range list {
		b := e.scratch[i][:0]
		views, off := pkt.AsViewList()
		for v := views.Front(); v != nil; v = v.Next() {
			s := v.AsSlice()
			if off >= len(s) {
				off -= len(s)
				continue
			}
			b = append(b, s[off:]...)
			off = 0
		}
		e.scratch[i] = b[:0]
		e.batch = append(e.batch, b)
	}
	err := e.l.WritePackets(e.batch)
	clear(e.batch)
	switch {
	case err == nil:
		return len(list), nil
	case errors.Is(err, link.ErrTooBig):
		return 0, &tcpip.ErrMessageTooLong{}
	default:
		return 0, &tcpip.ErrClosedForSend{}
	}
}

// readLoop reads batches from the link into gVisor views and delivers
// them, until the link is closed.
func (e *gvLink) readLoop() {
	defer e.wg.Done()
	const batch = 64
	size := max(e.mtu, 1280)
	views := make([]*buffer.View, batch)
	bufs := make([][]byte, batch)
	sizes := make([]int, batch)
	for i := range views {
		views[i] = buffer.NewViewSize(size)
		bufs[i] = views[i].AsSlice()
	}
	defer func() {
		for _, v := range views {
			v.Release()
		}
	}()
	for {
		n, err := e.l.ReadPackets(bufs, sizes)
		if err != nil {
			if errors.Is(err, link.ErrClosed) {
				return
			}
			continue
		}
		e.dmu.RLock()
		d := e.dispatcher
		e.dmu.RUnlock()
		for i := 0; i < n; i++ {
			v := views[i]
			v.CapLength(sizes[i])
			views[i] = buffer.NewViewSize(size)
			bufs[i] = views[i].AsSlice()
			if d == nil || sizes[i] == 0 {
				v.Release()
				continue
			}
			var proto tcpip.NetworkProtocolNumber
			switch header.IPVersion(v.AsSlice()) {
			case header.IPv4Version:
				proto = header.IPv4ProtocolNumber
			case header.IPv6Version:
				proto = header.IPv6ProtocolNumber
			default:
				v.Release()
				continue
			}
			pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithView(v)})
			d.DeliverNetworkPacket(proto, pkt)
			pkt.DecRef()
		}
	}
}
