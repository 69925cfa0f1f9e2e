// Package xcheck cross-checks threeway's wire package against an
// independent decoder, gopacket's layers package.
//
// It is a separate module so that gopacket stays a test-only dependency
// here and never enters the main module's go.mod, which depends on the
// standard library alone. It has no code of its own, only tests.
package xcheck
