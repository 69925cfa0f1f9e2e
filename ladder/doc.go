// Package ladder draws TCP conversations as ladder diagrams: one host per
// column, time flowing down, each segment an arrow between them, the way
// textbooks draw a handshake.
//
// It has three parts. Recording turns what happened into Events: a
// Recorder hears two in-memory stacks through their Tracers (the demo), a
// Tracer streams one live stack's connections (serve, dial), and Conns
// splits a capture's segments into connections whose Events infer each
// end's state from what it sent and received.
// Layout works out what the diagram says about the events: relative
// sequence numbers, which segments were lost, retransmitted, out of order
// or duplicate ACKs. Rendering draws the rows as text, with or without
// ANSI colour.
package ladder
