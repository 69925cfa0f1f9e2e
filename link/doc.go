// Package link is the bottom of a threeway stack: a Link moves raw IP
// packets, and this package provides an in-memory Pipe between two stacks
// (optionally lossy, slow or shuffled, reproducibly from a seed) and pcap
// capture of any Link.
package link
